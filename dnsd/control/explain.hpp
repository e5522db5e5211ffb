#pragma once
// `dnsd explain` (SPEC §1): why one client gets the answer it gets — the name
// walk, where geo places it and why, the tiers in order, each member's state
// and health, the policy's order, the TTL and the ECS scope, then the answer.
// Offline from the config and zone files, or against the live server's view
// (GET /v1/explain). The report is a trace of answer::respond() itself run on
// the query the client would send (over TCP, so that nothing is truncated),
// so it shows exactly the response the server sends for the same view,
// rotation counter and random draw.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/answer/pool.hpp"
#include "dnsd/answer/view.hpp"
#include "dnsd/fleet/fleet.hpp"
#include "dnsd/control/settings.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/geo/geo.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::control {

struct ExplainRequest {
    std::string name;  // as typed; the final dot is optional
    uint16_t type = zone::rrtype::A;
    core::Address client;
    // ECS source prefix: `client` is a resolver's client network (its bits past
    // the prefix cleared). Nullopt: `client` sent the query itself.
    std::optional<uint8_t> prefix;
};

// NAME, TYPE (empty: A) and ADDR[/PREFIX] as typed on the command line or in
// the HTTP query string. Nullopt and one line in `error` when one is malformed.
std::optional<ExplainRequest> parse_explain_request(std::string_view name, std::string_view type,
                                                    std::string_view client, std::string& error);

struct ExplainOptions {
    uint64_t counter = 0;  // the rotation counter the answer is shown at
    uint64_t random = 0;   // seeds weighted's random draw; 0: the workers' default seed
    // In a fleet: every node's verdict on a probe target (health::target_name).
    std::function<std::optional<fleet::TargetVotes>(std::string_view target)> votes;
};

struct ExplainMember {
    core::Address address;
    std::string region;                   // empty: none (in every tier)
    zone::MemberState state = zone::MemberState::automatic;  // the effective one
    bool overridden = false;              // a runtime override, not the zone file, set it
    std::string source = "zone";          // where it came from: "zone", "registration", "dns:NAME"
    std::optional<bool> health;           // nullopt: not probed
    bool pending = false;                 // joined at run time, waiting for its first successful probe
    std::string target;                   // what is probed (health::target_name); empty: not probed
    std::optional<fleet::TargetVotes> votes;  // in a fleet: each node's verdict and the quorum's
    bool eligible = false;
    std::optional<size_t> tier;           // index into ExplainPool::tiers; nullopt: in no tier
    std::optional<size_t> position;       // its place in the answer, from 0
};

struct ExplainTier {
    std::string region;    // empty: the pool skips geo, one tier of every member
    size_t members = 0;    // of the question's family
    size_t eligible = 0;
};

struct ExplainPool {
    std::string name;
    std::string type;  // of the members shown: "A" or "AAAA"
    zone::Policy policy = zone::Policy::round_robin;
    uint32_t max_answers = 0;
    uint32_t name_ttl = 0;      // record, else pool, else zone
    uint32_t degraded_ttl = 0;
    bool uses_geo = false;
    std::vector<ExplainTier> tiers;     // in the order tried
    std::vector<ExplainMember> members; // of the question's family, file order
    answer::Tier tier = answer::Tier::primary;
    std::optional<size_t> answered_tier;  // index into tiers; nullopt: fail open
    uint32_t ttl = 0;
    uint8_t geo_scope_prefix = 0;  // every address in client/this gets the same region order
    uint8_t scope_prefix = 0;      // the ECS scope the response carries
};

struct ExplainReport {
    ExplainRequest request;
    std::string qname;   // "www.demo.example."
    std::string qtype;   // "A"
    answer::Client client;  // as the server takes it (step 1)
    bool ecs_enabled = true;
    uint64_t counter = 0;   // the rotation the answer is shown at
    bool live = false;      // health came from the running server's probes
    std::optional<geo::Explanation> geo;  // null when there is no geo at all
    std::vector<std::string> region_names;  // by region index, for geo's indices
    std::string order_rule;  // "fallback list", "distance", "config order"
    std::string rcode;       // "NOERROR", "NXDOMAIN", "REFUSED", ...
    bool authoritative = false;  // AA
    std::string zone;        // the zone that answered; empty: none
    std::string zone_file;
    std::vector<std::string> steps;  // the name walk: zone, CNAME links, wildcard, cut, NODATA
    std::optional<ExplainPool> pool;  // the pool that answered the question's type
    // "www.demo.example. 20 IN A 192.0.2.10", by section.
    std::vector<std::string> answer, authority, additional;
    std::optional<uint8_t> scope_prefix;  // the response's ECS scope; nullopt: no ECS in the query
    std::vector<uint8_t> response;        // the response's bytes, as the server sends them over TCP
};

// The report for `request` against one view of the server. A view without
// health counts every member up; without geo, pools skip it.
ExplainReport explain(const answer::View& view, const ExplainRequest& request, const ExplainOptions& options);

// `dnsd explain` offline: loads the config, zones and GeoIP database as the
// server would, prints to_text to stdout and returns the exit status (0, or 1
// with one line per problem on stderr).
int run_explain(const Flags& flags, std::string_view name, std::string_view type, std::string_view client);

// For people: one fact per line, the answer last.
std::string to_text(const ExplainReport& report);
// For GET /v1/explain: the same facts as JSON.
nlohmann::json to_json(const ExplainReport& report);

}  // namespace dnsd::control
