#pragma once
// Health probes (SPEC §5) on the control loop, and the runtime member
// overrides of SPEC §8. The Monitor probes every distinct target of every zone
// once (one address, port and check, however many pools list it), applies the
// rise/fall rule, and publishes a new HealthView on every change; the workers
// pick it up on their next query. Nothing here runs on the query path.
//
// Single-threaded by design: every call, and every callback, happens on the
// loop given to the constructor.
#include <uv.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/health/handouts.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::health {

inline constexpr size_t check_type_count = zone::Check::type_names.size();  // as array indices

// What is probed, as status, logs and a fleet name it: "192.0.2.10:80 http /healthz".
std::string target_name(const zone::ProbeTarget& target);

enum class ProbeOutcome : uint8_t { success, failure, timeout };
inline constexpr size_t probe_outcome_count = 3;
std::string_view outcome_name(ProbeOutcome outcome);  // "success", "failure", "timeout"

// Probe latency, Prometheus-style: bucket i counts the probes that finished
// within bounds_s[i] seconds (cumulative); `count` is the +Inf bucket.
struct LatencyHistogram {
    static constexpr std::array<double, 12> bounds_s{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
    std::array<uint64_t, bounds_s.size()> cumulative{};
    uint64_t count = 0;
    double sum_s = 0;
};

struct Counters {
    // probes[type][outcome]: finished probes, by zone::Check::Type and ProbeOutcome.
    std::array<std::array<uint64_t, probe_outcome_count>, check_type_count> probes{};
    // By check type; a timed-out probe counts with the timeout as its latency.
    std::array<LatencyHistogram, check_type_count> latency{};
    uint64_t transitions_up = 0;
    uint64_t transitions_down = 0;
};

// A member taken out (SPEC §11): its state set to down, or gone from its pool.
struct DrainStatus {
    std::chrono::system_clock::time_point out_since;
    // From then on no cache can hold an answer with it: the later of
    // out_since and the expiry of the last answer that carried it.
    std::chrono::system_clock::time_point safe_to_remove_at;

    bool draining(std::chrono::system_clock::time_point now) const { return now < safe_to_remove_at; }
};

struct MemberStatus {
    std::string address;                             // core::Address::to_string form
    std::string region;                              // region name; empty: none
    std::string source = "zone";                     // "zone", "registration", "dns:NAME" (zone::Zone::sources)
    zone::MemberState state = zone::MemberState::automatic;  // from the zone file
    std::optional<zone::MemberState> override_state;          // runtime override, if any
    bool probed = false;  // false: the pool's check is "none" and health is always up
    std::string target;   // what is probed, e.g. "192.0.2.10:80 http /healthz"; empty if not probed
    bool up = true;       // health, as answers use it: the fleet's verdict in a fleet, else own_up
    bool own_up = true;   // this node's own verdict (rise/fall on its probes)
    std::optional<std::chrono::system_clock::time_point> last_check;  // end of the last probe; none yet: unset
    bool last_ok = true;         // the last probe's result (meaningful once last_check is set)
    std::string last_error;      // the latest failure's reason, kept after successes; empty: none yet
    std::chrono::system_clock::time_point since;  // health has been `up` since (start-up for a member never changed)
    uint32_t latency_us = 0;     // of the last probe
    std::optional<DrainStatus> drain;  // taken out while being answered (state down)
    // Joined at run time and not yet up: waits for its first successful probe (SPEC §11).
    bool pending = false;
};

// A member gone from its pool (a reload, a deregistration) while answers
// with it may still be cached.
struct GoneMember {
    std::string address;
    DrainStatus drain;
};

struct PoolStatus {
    std::string name;
    zone::Check::Type check = zone::Check::Type::none;
    std::vector<MemberStatus> members;  // zone file order
    std::vector<GoneMember> gone;       // still draining, in the order they left
};

struct ZoneStatus {
    std::string name;  // "svc.example.com"
    std::vector<PoolStatus> pools;
};

// A runtime override (SPEC §8): one member of one pool answers as if its
// zone file said `state` (up or down).
struct Override {
    std::string zone;  // as zone::Zone::name spells it: lower case, no final dot
    std::string pool;
    core::Address address;
    zone::MemberState state = zone::MemberState::down;

    friend bool operator==(const Override&, const Override&) = default;
};

struct OverrideStatus {
    Override entry;
    // False while the zones served have no such member: the override is kept,
    // and applies again if a reload brings the member back.
    bool applied = true;
};

struct Status {
    std::vector<ZoneStatus> zones;          // snapshot order
    std::vector<OverrideStatus> overrides;  // in the order they were set
};

enum class OverrideResult : uint8_t { ok, no_such_zone, no_such_pool, no_such_member };

// One member as GET /v1/zones/Z/pools/P/members/A shows it: served (status),
// or gone and remembered for its drain, or both absent (no_such_member).
struct MemberReport {
    std::optional<MemberStatus> status;  // none: the pool no longer has it
    std::optional<DrainStatus> drain;    // none: never taken out while answered
};

// One probed target's verdict on this node, by its name in status and logs
// ("192.0.2.10:80 http /healthz"): what a fleet node tells the others.
struct Verdict {
    std::string target;
    bool up = true;
    friend bool operator==(const Verdict&, const Verdict&) = default;
};

class Monitor {
public:
    using Publish = std::function<void(std::shared_ptr<const HealthView>)>;

    // `region_names`: config::Config::regions' names in order, for status.
    // `publish` receives every new HealthView (control::State::set_health).
    // `restored`: the overrides kept from before a restart; the first
    // update() applies those whose member is there.
    Monitor(uv_loop_t* loop, std::vector<std::string> region_names, Publish publish,
            std::vector<Override> restored = {});
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;
    // Closes what is still open; the loop must run afterwards to free it.
    ~Monitor();

    // Adopts the zones to serve (at start-up, after every reload and every
    // change of runtime members): targets that stay keep their state and
    // schedule, new ones start up and are probed within a second, gone ones
    // stop. A new target that only members joined at run time have (any
    // update after the first) starts down instead, and is up after its
    // first successful probe (SPEC §11). Overrides of members that are
    // gone are kept but not applied (see OverrideStatus::applied). Publishes
    // the new HealthView.
    void update(const zone::Snapshot& snapshot);

    // The runtime override of SPEC §8: with `up` or `down`, the member answers
    // as if its zone file said so until set again, across reloads; the member
    // must exist. `auto` ends the override, so that the zone file's state
    // holds again; it also ends one whose member is gone. `zone` is matched
    // without case and with or without a final dot. Publishes the new
    // HealthView.
    OverrideResult set_override(std::string_view zone, std::string_view pool, const core::Address& address,
                                zone::MemberState state);

    // Every override in force or kept, in the order they were set: what
    // control::StateStore saves.
    std::vector<Override> overrides() const;

    // Makes `overrides` (in that order) the only ones, whether their members
    // are served or not: a fleet's shared set (SPEC §13). Logs what changed
    // and publishes the new HealthView if anything did.
    void replace_overrides(std::vector<Override> overrides);

    // This node's verdict on every target it probes, sorted by target.
    std::vector<Verdict> verdicts() const;
    // `changed` is called after any own verdict changes and after update()
    // changes the set of targets.
    void on_verdicts_changed(std::function<void()> changed);
    // The verdicts answers use instead of this node's own, by target name (a
    // fleet's quorum, SPEC §13); a target not in `up_by_target` uses its own.
    // An empty map: every target its own (a node alone, or cut off from its
    // fleet). Publishes the new HealthView when an answer changes.
    void set_fleet_verdicts(std::unordered_map<std::string, bool> up_by_target);

    // One member's status and drain; ok, or what the zones served lack (a
    // member gone from its pool is found while its drain is remembered: an
    // hour past its safe_to_remove_at).
    OverrideResult member(std::string_view zone, std::string_view pool, const core::Address& address,
                          MemberReport& report) const;

    Status status() const;
    const Counters& counters() const;

    // Stops every probe and closes every handle (MainLoop::on_stop). After it,
    // update() and set_override() do nothing but report.
    void close();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dnsd::health
