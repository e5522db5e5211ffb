#pragma once
// The compiled, immutable form of the zones that the answer path reads. Built by
// zone::compile off the query path, never mutated after it is published: a
// reload builds new Zones and a new Snapshot and swaps them in whole.
//
// Names are kept in uncompressed wire form ("\3www\4demo\7example\0"),
// lower-cased where they are keys, so the answer path compares bytes.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/key_index.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::zone {

namespace rrtype = wire::rrtype;

// One record's RDATA in wire form. Domain names inside it are stored
// uncompressed; name_offsets marks those the encoder may compress (NS, CNAME,
// PTR, MX exchange, SOA mname/rname; never SRV targets, per RFC 2782).
struct Rdata {
    std::vector<uint8_t> wire;
    std::array<uint16_t, 2> name_offsets{};
    uint8_t name_count = 0;
};

struct RRset {
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::vector<Rdata> rdatas;  // in file order; the answer path rotates them
    // Names the set's rotation counter in every worker (Zone::key_rotations);
    // 0: a single record, which does not rotate.
    uint64_t rotation_key = 0;
};

enum class Policy : uint8_t { round_robin, weighted, sticky, priority };
// How a pool orders the regions for a client: by the geo rules (SPEC §4.2) or
// by round-trip time (SPEC §12).
enum class Routing : uint8_t { geo, latency };
// Operator's state for a member: auto follows health, up/down force it.
enum class MemberState : uint8_t { automatic, up, down };

// How zone files, the HTTP API, status, metrics and explain spell them, by value.
inline constexpr std::array<std::string_view, 4> policy_names{"round-robin", "weighted", "sticky", "priority"};
inline constexpr std::array<std::string_view, 3> member_state_names{"auto", "up", "down"};
inline constexpr std::array<std::string_view, 2> routing_names{"geo", "latency"};
inline std::string_view to_string(Policy policy) { return policy_names[static_cast<size_t>(policy)]; }
inline std::string_view to_string(Routing routing) { return routing_names[static_cast<size_t>(routing)]; }
inline std::string_view to_string(MemberState state) { return member_state_names[static_cast<size_t>(state)]; }
// The state spelled `text`, exactly.
std::optional<MemberState> member_state(std::string_view text);

struct Check {
    enum class Type : uint8_t { none, tcp, http, https, dns };
    static constexpr std::array<std::string_view, 5> type_names{"none", "tcp", "http", "https", "dns"};
    Type type = Type::none;
    uint16_t port = 0;  // 0: the type's default (80, 443, 53)
    uint32_t interval_ms = 10000;
    uint32_t timeout_ms = 3000;
    uint32_t rise = 2;
    uint32_t fall = 3;
    // http/https
    std::string path = "/";
    std::string host;
    std::vector<std::pair<uint16_t, uint16_t>> expect_status{{200, 399}};  // inclusive ranges
    std::string expect_body;
    bool verify_tls = false;
    // dns
    std::string query;
    uint16_t query_type = rrtype::A;

    bool operator==(const Check&) const = default;
};

// One thing a zone's health checks probe: an address with the check that
// probes it. check.port is the effective port (the member's override, else the
// check's, else the type's default), never 0.
inline std::string_view to_string(Check::Type type) { return Check::type_names[static_cast<size_t>(type)]; }

struct ProbeTarget {
    core::Address address;
    Check check;
};

struct Member {
    core::Address address;
    int32_t region = -1;  // index into the region names the zone was loaded with; -1: none (every region)
    uint32_t weight = 1;
    uint32_t priority = 0;
    MemberState state = MemberState::automatic;
    uint16_t port = 0;       // probe port override; 0: the check's port
    // Where it came from: an index into Zone::sources; 0: the zone file.
    uint16_t source = 0;
    // Index into Zone::probe_targets and health::ZoneHealth::up; UINT32_MAX: not probed.
    uint32_t health_slot = UINT32_MAX;
};

// A weighted or sticky pool's members of one family and one region tier, with
// their weights summed in order: weighted draws a member in proportion to its
// weight by one binary search, and sticky ranks the tier's members for a client
// network once per worker cache entry (answer::select), whatever the pool's size.
struct RegionTier {
    int32_t region = -1;               // the region's members and those of none; -1: every member
    std::vector<uint32_t> members;     // indices into Pool::members
    std::vector<uint64_t> cumulative;  // cumulative[i]: the weights of members[0..i]
    uint32_t drawable = 0;             // members of weight above 0
};

// A pool's `members_from` entry (SPEC §11): a DNS name whose answers become
// members at run time. The zone only describes it; dnsd/discovery/ resolves it
// on the control loop and hands the members it finds to the pool.
struct MemberSource {
    std::string name;           // presentation form, absolute, lower case ("web.service.consul.")
    uint16_t type = rrtype::A;  // A, AAAA or SRV
    int32_t region = -1;        // as Member::region, for every member found
    // Every member's weight; none: 1, or an SRV record's own weight.
    std::optional<uint32_t> weight;
    MemberState state = MemberState::automatic;
    std::optional<core::Endpoint> resolver;  // none: the system's resolvers
    uint32_t refresh_min_s = 5;
    uint32_t refresh_max_s = 300;

    bool operator==(const MemberSource&) const = default;
};

struct Pool {
    std::string name;
    Policy policy = Policy::round_robin;
    Routing routing = Routing::geo;
    uint32_t max_answers = 0;  // 0: all
    uint32_t ttl = 30;
    uint32_t degraded_ttl = 30;
    Check check;
    std::vector<Member> members;   // file order
    std::vector<MemberSource> members_from;  // file order
    std::vector<uint32_t> v4, v6;  // indices into members, by family, file order
    bool uses_geo = false;         // some member names a region
    // The rotation counters of the members of each family (v4, v6); see RRset::rotation_key.
    std::array<uint64_t, 2> rotation_keys{};
    // Weighted and sticky pools only, by family (v4, v6): the tier of every
    // member, then one per region a member names. Made by index_weights().
    std::array<std::vector<RegionTier>, 2> region_tiers;
    // Every member's weight (0 counted as 1) is the same: the policies' keys
    // need no logarithm (answer::select).
    bool weights_alike = true;

    uint64_t rotation_key(core::Family family) const { return rotation_keys[family == core::Family::v6]; }
    // The tier of `family` for `region` (-1: every member), else nullptr.
    const RegionTier* region_tier(core::Family family, int32_t region) const {
        for (const auto& tier : region_tiers[family == core::Family::v6])
            if (tier.region == region) return &tier;
        return nullptr;
    }
    // Builds region_tiers (a weighted or sticky pool; else clears them) and
    // weights_alike from members, v4 and v6.
    void index_weights();
};

// A name in the zone. Every name between a record's owner and the apex exists
// as a Node (empty non-terminals have no rrsets and no pool).
struct Node {
    std::string_view name;        // wire form, lower case; its bytes belong to the Zone
    std::vector<RRset> rrsets;    // sorted by type
    int32_t pool = -1;            // index into Zone::pools: A/AAAA come from it
    uint32_t pool_ttl = 30;       // record → pool → zone
    bool delegation = false;      // has NS and is not the apex: a zone cut
    // A zone cut lies between it and the apex (the apex and the node itself
    // excluded): its data is not authoritative here, and a lookup of it must
    // walk down to the cut. Set by Zone::finish().
    bool below_cut = false;

    const RRset* find(uint16_t type) const {
        for (const auto& rrset : rrsets)
            if (rrset.type == type) return &rrset;
        return nullptr;
    }
    bool empty() const { return rrsets.empty() && pool < 0; }
};

// The names of a zone with their records: the bulk of a zone, built once by
// compile and shared, never changed, by every Zone derived from it (runtime
// members change pools, never names).
class NameTree {
public:
    // Every name once, in the order added; find() looks them up. Flat, so
    // that a zone of a million names is a few allocations per name, not ten.
    std::vector<Node> nodes;
    // The keys of the static RRsets of several records (see RRset::rotation_key).
    std::vector<uint64_t> rotation_keys;

    NameTree() = default;
    // Nodes point into the tree's own name storage.
    NameTree(const NameTree&) = delete;
    NameTree& operator=(const NameTree&) = delete;

    const Node* find(std::string_view wire_name) const {
        const uint32_t i = index_.find(wire_name, [this](uint32_t n) { return nodes[n].name; });
        return i == core::KeyIndex::none ? nullptr : &nodes[i];
    }
    void reserve(size_t count) {
        nodes.reserve(count);
        index_.reserve(count);
    }
    Node& node_at(std::string_view wire_name);

private:
    core::KeyIndex index_;  // into nodes, by name
    // The bytes of node names, in blocks that never move.
    std::vector<std::unique_ptr<char[]>> name_blocks_;
    size_t name_block_size_ = 0;  // of the last block
    size_t name_block_used_ = 0;
};

struct Zone {
    std::string name;        // presentation form without the final dot ("demo.example")
    std::string apex;        // wire form, lower case
    std::string file;        // the file it was loaded from
    uint32_t serial = 0;
    uint32_t negative_ttl = 30;  // min(SOA TTL, SOA minimum), for NXDOMAIN/NODATA
    std::vector<Pool> pools;
    size_t max_pool_members = 0;
    // The pools' rotating sets (two per pool, one per family); the static
    // RRsets' are the tree's (names().rotation_keys).
    std::vector<uint64_t> rotation_keys;
    // Distinct within the zone: members of several pools probed the same way
    // share one slot.
    std::vector<ProbeTarget> probe_targets;
    // Where members came from, by Member::source: "zone" first, then each
    // runtime source ("registration", "dns:NAME").
    std::vector<std::string> sources{"zone"};

    Zone() = default;

    const NameTree& names() const { return *tree_; }
    // The tree, to share with a Zone derived from this one.
    const std::shared_ptr<NameTree>& shared_names() const { return tree_; }
    const std::vector<Node>& nodes() const { return tree_->nodes; }
    const Node* find(std::string_view wire_name) const { return tree_->find(wire_name); }
    const Node& apex_node() const { return *find(apex); }

    // ---- Building, before the zone is shared.

    // Room for `count` nodes without moving them.
    void reserve_nodes(size_t count) { building_tree().reserve(count); }
    // The node named `wire_name` (lower case), added without data when there
    // is none. Adding a node may move the others.
    Node& node_at(std::string_view wire_name) { return building_tree().node_at(wire_name); }
    // Shares `tree` (another Zone's names) instead of a tree of its own.
    void share_names(std::shared_ptr<NameTree> tree) { tree_ = std::move(tree); }

    // Once the nodes and pools are final: marks the names below a zone cut
    // (Node::below_cut) and keys the rotating sets (key_rotations).
    void finish();
    // The pools' rotation keys alone: all a Zone that shares another's names needs.
    void key_pool_rotations();

private:
    // Gives every rotating set its key. A key is a hash of what the set is:
    // the zone, the owner (or the pool's name), the type (or family) and the
    // records (or member addresses) in order. A reload that leaves a set as
    // it was gives it the same key, so its rotation carries on; any change
    // to it starts a new one.
    void key_rotations();
    void mark_cuts();
    // The tree this Zone is building: its own, never one shared with another Zone.
    NameTree& building_tree();

    std::shared_ptr<NameTree> tree_ = std::make_shared<NameTree>();
};

class Snapshot {
public:
    Snapshot() = default;
    // Indexes `zones` (distinct apexes) for find_zone.
    explicit Snapshot(std::vector<std::shared_ptr<const Zone>> zones);

    // Zones are shared between snapshots so that a reload rebuilds only what
    // changed, and a broken file keeps its previous Zone.
    const std::vector<std::shared_ptr<const Zone>> zones;
    const size_t max_pool_members = 0;
    // Every zone's rotation_keys, counted: a worker adopting the snapshot
    // knows how many counters it may need without visiting each zone.
    const size_t rotation_sets = 0;

    // The zone with the longest apex that `wire_name` (lower case) is at or
    // below: one probe of the apex index per label count some apex has, from
    // the deepest down, whatever the number of zones.
    const Zone* find_zone(std::string_view wire_name) const;
    // The zone whose apex is `apex` (wire form, lower case), else nullptr.
    const Zone* zone_at(std::string_view apex) const;

private:
    core::KeyIndex by_apex_;  // into zones
    // Bit n: some apex has n labels (a name has at most 127).
    std::array<uint64_t, 2> apex_depths_{};
};

}  // namespace dnsd::zone
