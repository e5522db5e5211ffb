#pragma once
// The compiled geo map: every address, through one walk of a binary trie, to
// the region order its client gets and the widest network around it that gets
// the same order (the truthful ECS scope, SPEC §4 step 7).
//
// Built once at load time by walking the whole GeoIP search tree, resolving
// each network (GeoIP record, then region subnets over it) and merging sibling
// networks whose clients get the same order, so that a leaf's depth is the
// widest such network. Identical subtrees are stored once (the trie is a DAG).
// Lookups allocate nothing and take no lock.
#include <cstdint>
#include <span>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/geo/database.hpp"
#include "dnsd/geo/pages.hpp"
#include "dnsd/geo/regions.hpp"

namespace dnsd::geo {

class Map {
public:
    // One distinct outcome. Two networks share a Result exactly when their
    // clients get the same region order: that is all an answer depends on.
    struct Result {
        int32_t region = -1;  // the first region tried; -1: the client has none
        uint32_t order_begin = 0;
        uint32_t order_size = 0;
    };

    struct Hit {
        uint32_t result = 0;       // index into the result table
        uint8_t scope_prefix = 0;  // every address in address/scope_prefix has this result
    };

    struct Stats {
        uint64_t tree_nodes = 0;           // database search-tree nodes read
        uint32_t records = 0;              // distinct data records
        uint32_t records_with_country = 0; // of those, with a country at the configured path
        uint32_t records_with_location = 0;  // with coordinates of their own (not the table's)
        uint32_t records_unknown_country = 0;  // with a country the built-in table lacks
        size_t nodes = 0;                  // trie nodes, each stored once however many parents share it
        size_t results = 0;
        size_t memory_bytes = 0;           // trie + result table
        double build_ms = 0;
    };

    // Compiles the map for `regions` over `db`, which may be null (no
    // database: no address has a record). Throws std::runtime_error when the
    // database's search tree is corrupt.
    static Map build(const Database* db, const Regions& regions);

    Hit find(const core::Address& address) const noexcept;
    const Result& result(uint32_t index) const noexcept { return results_[index]; }
    std::span<const int32_t> order(uint32_t index) const noexcept {
        const Result& r = results_[index];
        return std::span<const int32_t>(orders_).subspan(r.order_begin, r.order_size);
    }
    const Stats& stats() const { return stats_; }

private:
    class Builder;  // map.cpp: the walk that fills these

    // A child reference: a node index, or with leaf_bit set a result index.
    // Children come before their parents in nodes_; several parents may share
    // a child.
    using Ref = uint32_t;
    static constexpr Ref leaf_bit = 0x80000000u;
    struct Node {
        Ref child[2];
    };

    std::vector<Node, PageAllocator<Node>> nodes_;
    Ref root_v4_ = leaf_bit;
    Ref root_v6_ = leaf_bit;
    std::vector<Result> results_;
    std::vector<int32_t> orders_;
    Stats stats_;
};

}  // namespace dnsd::geo
