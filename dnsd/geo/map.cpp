#include "dnsd/geo/map.hpp"

#include <maxminddb.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "dnsd/geo/countries.hpp"

namespace dnsd::geo {
namespace {

// A region subnet as the walk sees it.
struct SubnetRule {
    core::Address network;
    uint8_t prefix = 0;
    int32_t region = -1;
};

unsigned bit_at(const core::Address& address, unsigned index) {
    return (address.bytes[index / 8] >> (7 - index % 8)) & 1u;
}

// The family's subnets sorted by address, then prefix, then region. In that
// order the subnets inside any network are contiguous, the network's own
// subnets (the same address and prefix) first, and among those the region that
// comes first in config order first.
std::vector<SubnetRule> subnet_rules(const Regions& regions, core::Family family) {
    std::vector<SubnetRule> rules;
    const auto& list = regions.regions();
    for (size_t r = 0; r < list.size(); ++r)
        for (const auto& subnet : list[r].subnets)
            if (subnet.network.family == family)
                rules.push_back({subnet.network.masked(subnet.prefix), subnet.prefix, static_cast<int32_t>(r)});
    std::sort(rules.begin(), rules.end(), [](const SubnetRule& a, const SubnetRule& b) {
        if (a.network.bytes != b.network.bytes) return a.network.bytes < b.network.bytes;
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
        return a.region < b.region;
    });
    return rules;
}

}  // namespace

class Map::Builder {
public:
    Builder(const Database* db, const Regions& regions, Map& map) : db_(db), regions_(regions), map_(map) {
        places_.emplace_back();  // place 0: an address without a record
        if (db_) find_shared_nodes();
    }

    void run() {
        // Without a database, or for IPv6 in an IPv4 database, every address
        // is in the empty place.
        Source v4{false, 0}, v6{false, 0};
        if (db_ && db_->mmdb().metadata.node_count > 0) {
            const Source root{true, 0};
            v4 = root;
            if (db_->ip_version() == 6) {
                v6 = root;
                // The IPv4 tree is the subtree at ::/96; it ends higher up when
                // one record covers all of it.
                for (unsigned depth = 0; depth < 96 && v4.is_node; ++depth) v4 = read(v4.value).child[0];
                // Both walks reach it.
                if (v4.is_node) shared_[v4.value] = true;
            }
        }
        map_.root_v4_ = walk_root(v4, core::Family::v4);
        map_.root_v6_ = walk_root(v6, core::Family::v6);
        if (db_) db_->release_pages();
    }

private:
    // Where the walk is in the database: a search-tree node, or a leaf given
    // by its place (index into places_).
    struct Source {
        bool is_node = false;
        uint32_t value = 0;
    };
    struct Children {
        Source child[2];
    };
    struct Walked {
        Ref ref = leaf_bit;
        uint8_t height = 0;  // levels of trie below ref
    };
    struct Memo {
        Ref ref = leaf_bit;
        uint8_t height = 0;
    };

    Ref walk_root(Source source, core::Family family) {
        const auto rules = subnet_rules(regions_, family);
        std::span<const SubnetRule> inside(rules);
        int32_t active = -1;
        // A /0 subnet covers the whole family: it is the root's own.
        if (!inside.empty() && inside.front().prefix == 0) active = inside.front().region;
        while (!inside.empty() && inside.front().prefix == 0) inside = inside.subspan(1);
        const unsigned max_depth = family == core::Family::v4 ? 32 : 128;
        return walk(source, 0, max_depth, inside, active).ref;
    }

    // The trie for the network at `depth` reached through `source`, under the
    // subnet of region `active` (-1: none), with `inside` the subnets strictly
    // inside this network (prefix > depth).
    Walked walk(Source source, unsigned depth, unsigned max_depth, std::span<const SubnetRule> inside,
                int32_t active) {
        if (inside.empty()) {
            if (!source.is_node) return Walked{leaf(source.value, active), 0};
            if (const Memo* memo = find_memo(source.value, active)) {
                // An aliased subtree (IPv4 under ::/96, ::ffff:0:0/96 and
                // 2002::/16) is compiled once; it must still fit below here.
                if (depth + memo->height > max_depth) corrupt("a subtree is reachable too deep");
                return Walked{memo->ref, memo->height};
            }
        }

        Children children;
        if (source.is_node) {
            if (depth >= max_depth) corrupt("the search tree is deeper than the address");
            children = read(source.value);
        } else {
            children.child[0] = children.child[1] = source;  // a leaf split by a subnet inside it
        }

        Walked walked[2];
        // Subnets inside this network are sorted by address, so those with a 0
        // at bit `depth` come first.
        auto split = std::partition_point(inside.begin(), inside.end(),
                                          [&](const SubnetRule& rule) { return bit_at(rule.network, depth) == 0; });
        std::span<const SubnetRule> halves[2] = {{inside.begin(), split}, {split, inside.end()}};
        for (unsigned side = 0; side < 2; ++side) {
            auto sub = halves[side];
            int32_t child_active = active;
            // Subnets that are exactly the child network come first; the
            // first of them is the config's first region.
            if (!sub.empty() && sub.front().prefix == depth + 1) child_active = sub.front().region;
            while (!sub.empty() && sub.front().prefix == depth + 1) sub = sub.subspan(1);
            walked[side] = walk(children.child[side], depth + 1, max_depth, sub, child_active);
        }

        Walked result;
        if (walked[0].ref == walked[1].ref && (walked[0].ref & leaf_bit)) {
            // Both halves lead to the same result: the whole network does.
            result = walked[0];
        } else {
            result.ref = node(walked[0].ref, walked[1].ref);
            result.height = static_cast<uint8_t>(1 + std::max(walked[0].height, walked[1].height));
        }
        if (inside.empty() && source.is_node && shared_[source.value]) store_memo(source.value, active, result);
        return result;
    }

    // Identical subtrees are stored once, so the trie is a DAG: with a handful
    // of results, most small subtrees are one of a few shapes. A lookup walks
    // it exactly as a tree (the depth it reaches does not depend on the path
    // taken into a shared subtree), in a fraction of the memory. Nodes are
    // interned in an open-addressing table of node indices.
    Ref node(Ref zero, Ref one) {
        if ((map_.nodes_.size() + 1) * 2 > node_slots_.size()) grow_node_slots();
        const size_t mask = node_slots_.size() - 1;
        for (size_t slot = node_hash(zero, one) & mask;; slot = (slot + 1) & mask) {
            const Ref existing = node_slots_[slot];
            if (existing == no_node) {
                if (map_.nodes_.size() >= leaf_bit) throw std::runtime_error("geo map: too many nodes");
                const Ref ref = static_cast<Ref>(map_.nodes_.size());
                map_.nodes_.push_back(Node{{zero, one}});
                node_slots_[slot] = ref;
                return ref;
            }
            const Node& candidate = map_.nodes_[existing];
            if (candidate.child[0] == zero && candidate.child[1] == one) return existing;
        }
    }

    void grow_node_slots() {
        node_slots_.assign(std::max<size_t>(1024, node_slots_.size() * 2), no_node);
        const size_t mask = node_slots_.size() - 1;
        for (Ref ref = 0; ref < map_.nodes_.size(); ++ref) {
            const Node& existing = map_.nodes_[ref];
            size_t slot = node_hash(existing.child[0], existing.child[1]) & mask;
            while (node_slots_[slot] != no_node) slot = (slot + 1) & mask;
            node_slots_[slot] = ref;
        }
    }

    static size_t node_hash(Ref zero, Ref one) {
        const uint64_t key = (uint64_t{zero} << 32) | one;
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32);
    }

    // The search-tree nodes the walk can reach more than once: those with
    // more than one parent (MaxMind aliases the IPv4 tree at ::ffff:0:0/96
    // and 2002::/16) and the IPv4 root. Only these are memoised, which keeps
    // the memo to a few entries instead of one per tree node.
    void find_shared_nodes() {
        const uint32_t count = db_->mmdb().metadata.node_count;
        shared_.assign(count, false);
        std::vector<bool, PageAllocator<bool>> reached(count, false);
        for (uint32_t number = 0; number < count; ++number) {
            MMDB_search_node_s node{};
            int status = MMDB_read_node(&db_->mmdb(), number, &node);
            if (status != MMDB_SUCCESS) corrupt(MMDB_strerror(status));
            count_read();
            for (auto [type, record] : {std::pair{node.left_record_type, node.left_record},
                                        std::pair{node.right_record_type, node.right_record}}) {
                if (type != MMDB_RECORD_TYPE_SEARCH_NODE) continue;
                if (reached[record]) shared_[record] = true;
                reached[record] = true;
            }
        }
    }

    const Memo* find_memo(uint32_t node, int32_t active) const {
        if (!shared_[node]) return nullptr;
        auto it = memo_.find(memo_key(node, active));
        return it == memo_.end() ? nullptr : &it->second;
    }

    void store_memo(uint32_t node, int32_t active, const Walked& walked) {
        memo_[memo_key(node, active)] = Memo{walked.ref, walked.height};
    }

    static uint64_t memo_key(uint32_t node, int32_t active) {
        return (uint64_t{node} << 32) | static_cast<uint32_t>(active);
    }

    // The walks read the whole file, mostly front to back. Handing the pages
    // back every so often keeps them from piling up in this process's memory
    // (they stay in the page cache; a page read again is mapped again).
    void count_read() {
        if (++reads_ % release_pages_every_reads == 0) db_->release_pages();
    }

    Children read(uint32_t node_number) {
        MMDB_search_node_s node{};
        int status = MMDB_read_node(&db_->mmdb(), node_number, &node);
        if (status != MMDB_SUCCESS) corrupt(MMDB_strerror(status));
        ++map_.stats_.tree_nodes;
        count_read();
        return Children{{source_of(node.left_record_type, node.left_record, node.left_record_entry),
                         source_of(node.right_record_type, node.right_record, node.right_record_entry)}};
    }

    Source source_of(uint8_t type, uint64_t record, const MMDB_entry_s& entry) {
        switch (type) {
            case MMDB_RECORD_TYPE_SEARCH_NODE: return Source{true, static_cast<uint32_t>(record)};
            case MMDB_RECORD_TYPE_EMPTY: return Source{false, 0};
            case MMDB_RECORD_TYPE_DATA: return Source{false, place_of(entry)};
            default: corrupt("a search-tree record points nowhere");
        }
    }

    // Records are shared by many networks: each is decoded once.
    uint32_t place_of(const MMDB_entry_s& entry) {
        auto [it, added] = place_by_offset_.try_emplace(entry.offset, static_cast<uint32_t>(places_.size()));
        if (added) {
            places_.push_back(db_->place(entry));
            const Place& place = places_.back();
            auto& stats = map_.stats_;
            ++stats.records;
            if (!place.country.empty()) ++stats.records_with_country;
            if (!place.country.empty() && !find_country(place.country)) ++stats.records_unknown_country;
            if (place.location && !place.location_from_table) ++stats.records_with_location;
        }
        return it->second;
    }

    // The leaf for clients at `place`, inside a subnet of region
    // `subnet_region` (-1: none). The subnet decides the region; the place
    // still orders the other regions by distance.
    Ref leaf(uint32_t place_index, int32_t subnet_region) {
        auto [it, added] = leaf_by_place_.try_emplace(memo_key(place_index, subnet_region), leaf_bit);
        if (!added) return it->second;
        const Place& place = places_[place_index];
        int32_t region = subnet_region >= 0 ? subnet_region : regions_.resolve(place).region;
        it->second = leaf_bit | intern(region, regions_.order(region, place.location));
        return it->second;
    }

    uint32_t intern(int32_t region, std::vector<int32_t> order) {
        auto [it, added] = result_index_.try_emplace(std::pair{region, order}, 0);
        if (added) {
            it->second = static_cast<uint32_t>(map_.results_.size());
            map_.results_.push_back(Result{region, static_cast<uint32_t>(map_.orders_.size()),
                                           static_cast<uint32_t>(order.size())});
            map_.orders_.insert(map_.orders_.end(), order.begin(), order.end());
        }
        return it->second;
    }

    [[noreturn]] void corrupt(const std::string& why) const {
        throw std::runtime_error(db_->path() + ": corrupt GeoIP search tree: " + why);
    }

    const Database* db_;
    const Regions& regions_;
    Map& map_;
    std::vector<Place> places_;
    std::unordered_map<uint32_t, uint32_t> place_by_offset_;
    std::unordered_map<uint64_t, Ref> leaf_by_place_;
    std::map<std::pair<int32_t, std::vector<int32_t>>, uint32_t> result_index_;
    std::vector<bool, PageAllocator<bool>> shared_;  // by search-tree node: find_shared_nodes
    std::unordered_map<uint64_t, Memo> memo_;  // by shared node and subnet region (memo_key)
    uint64_t reads_ = 0;  // search-tree nodes read, by both walks
    static constexpr uint64_t release_pages_every_reads = 32768;  // about 200 KB of tree
    static constexpr Ref no_node = ~Ref{0};
    std::vector<Ref, PageAllocator<Ref>> node_slots_;  // node(): the interning table, a power of two, at most half full
};

Map Map::build(const Database* db, const Regions& regions) {
    const auto start = std::chrono::steady_clock::now();
    Map map;
    Builder(db, regions, map).run();
    map.nodes_.shrink_to_fit();
    auto& stats = map.stats_;
    stats.nodes = map.nodes_.size();
    stats.results = map.results_.size();
    stats.memory_bytes = map.nodes_.capacity() * sizeof(Node) + map.results_.capacity() * sizeof(Result) +
                         map.orders_.capacity() * sizeof(int32_t);
    stats.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return map;
}

Map::Hit Map::find(const core::Address& address) const noexcept {
    Ref ref = address.family == core::Family::v4 ? root_v4_ : root_v6_;
    // The build keeps every leaf within the family's bits.
    unsigned depth = 0;
    while (!(ref & leaf_bit)) ref = nodes_[ref].child[bit_at(address, depth++)];
    return Hit{ref & ~leaf_bit, static_cast<uint8_t>(depth)};
}

}  // namespace dnsd::geo
