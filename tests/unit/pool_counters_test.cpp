// A worker's pool answer counters: one slot per zone, pool, region and tier,
// and counts that survive a new snapshot for the pools that stay.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "dnsd/net/pool_counters.hpp"

namespace {

using dnsd::answer::PoolAnswer;
using dnsd::answer::Tier;
using dnsd::net::PoolCounters;
using dnsd::net::PoolCounterTable;
namespace zone = dnsd::zone;

std::shared_ptr<const zone::Zone> make_zone(std::string name, std::vector<std::string> pools) {
    auto out = std::make_shared<zone::Zone>();
    out->name = std::move(name);
    for (auto& pool : pools) {
        out->pools.emplace_back();
        out->pools.back().name = std::move(pool);
    }
    return out;
}

std::shared_ptr<const zone::Snapshot> make_snapshot(std::vector<std::shared_ptr<const zone::Zone>> zones) {
    return std::make_shared<zone::Snapshot>(std::move(zones));
}

}  // namespace

TEST_CASE("Pool answers are counted by zone, pool, region and tier", "[pool_counters]") {
    const auto a = make_zone("a.test", {"web", "api"});
    const auto b = make_zone("b.test", {"web"});
    PoolCounterTable table(make_snapshot({a, b}), 2);

    table.count({a.get(), 1, 0, Tier::primary});
    table.count({a.get(), 1, 0, Tier::primary});
    table.count({a.get(), 1, 1, Tier::fallback});
    table.count({b.get(), 0, -1, Tier::fail_open});
    // A zone the table does not know, or a pool past the end, is not counted.
    const auto stranger = make_zone("c.test", {"web"});
    table.count({stranger.get(), 0, 0, Tier::primary});
    table.count({a.get(), 2, 0, Tier::primary});
    // A region the table was not sized for counts as none rather than out of bounds.
    table.count({b.get(), 0, 7, Tier::primary});

    CHECK(table.get(0, 1, 0, Tier::primary) == 2);
    CHECK(table.get(0, 1, 1, Tier::fallback) == 1);
    CHECK(table.get(0, 1, 1, Tier::primary) == 0);
    CHECK(table.get(0, 0, 0, Tier::primary) == 0);
    CHECK(table.get(1, 0, -1, Tier::fail_open) == 1);
    CHECK(table.get(1, 0, -1, Tier::primary) == 1);
    uint64_t total = 0;
    for (size_t z = 0; z < 2; ++z)
        for (size_t p = 0; p < table.zones()[z]->pools.size(); ++p)
            for (int32_t r = -1; r < 2; ++r)
                for (auto t : {Tier::primary, Tier::fallback, Tier::fail_open}) total += table.get(z, p, r, t);
    CHECK(total == 5);
}

TEST_CASE("A new snapshot's table starts from the old counts of the pools that stay", "[pool_counters]") {
    PoolCounters counters(1);
    CHECK(counters.table() == nullptr);

    const auto a = make_zone("a.test", {"web", "gone"});
    const auto first = make_snapshot({a});
    counters.adopt(first);
    const auto first_table = counters.table();
    REQUIRE(first_table);
    counters.count({a.get(), 0, 0, Tier::primary});
    counters.count({a.get(), 1, 0, Tier::primary});
    counters.count({nullptr, 0, 0, Tier::primary});  // no pool answered
    // The same snapshot again (a health change publishes a new view): the same table.
    counters.adopt(first);
    CHECK(counters.table() == first_table);

    // A reload: a.test rebuilt with "web" moved and "gone" removed; b.test added.
    const auto a2 = make_zone("a.test", {"new", "web"});
    const auto b = make_zone("b.test", {"web"});
    counters.adopt(make_snapshot({b, a2}));
    const auto second = counters.table();
    REQUIRE(second != first_table);
    CHECK(second->get(1, 1, 0, Tier::primary) == 1);  // a.test/web kept its count
    CHECK(second->get(1, 0, 0, Tier::primary) == 0);
    CHECK(second->get(0, 0, 0, Tier::primary) == 0);  // b.test/web is another pool
    counters.count({a2.get(), 1, 0, Tier::primary});
    CHECK(second->get(1, 1, 0, Tier::primary) == 2);
    // The old table, still held by a reader, is no longer written.
    counters.count({a.get(), 0, 0, Tier::primary});
    CHECK(first_table->get(0, 0, 0, Tier::primary) == 1);
}

TEST_CASE("A table prepared off the worker continues the counts the worker adds until it moves", "[pool_counters]") {
    PoolCounters counters(0);
    const auto a = make_zone("a.test", {"web"});
    const auto first = make_snapshot({a});
    counters.adopt(first);
    counters.count({a.get(), 0, -1, Tier::primary});

    // The control loop prepares the next snapshot's table; the worker still
    // counts into the old one until it adopts the view.
    const auto a2 = make_zone("a.test", {"web"});
    const auto second = make_snapshot({a2});
    counters.prepare(second);
    CHECK(counters.table()->snapshot() == first);
    counters.count({a.get(), 0, -1, Tier::primary});
    counters.adopt(second);
    const auto table = counters.table();
    CHECK(table->snapshot() == second);
    CHECK(table->get(0, 0, -1, Tier::primary) == 2);
    counters.count({a2.get(), 0, -1, Tier::primary});
    CHECK(table->get(0, 0, -1, Tier::primary) == 3);

    // And again: what was read through from the first table is now copied.
    const auto third = make_snapshot({make_zone("b.test", {}), a2});
    counters.prepare(third);
    counters.count({a2.get(), 0, -1, Tier::primary});
    counters.adopt(third);
    CHECK(counters.table()->get(1, 0, -1, Tier::primary) == 4);
}

TEST_CASE("A worker that adopts a snapshot other than the prepared one builds its own table", "[pool_counters]") {
    PoolCounters counters(0);
    const auto a = make_zone("a.test", {"web"});
    counters.adopt(make_snapshot({a}));
    counters.count({a.get(), 0, -1, Tier::primary});
    // Two reloads within one pause of the worker: it reads the first view
    // after the second snapshot was prepared.
    const auto second = make_snapshot({a});
    const auto third = make_snapshot({make_zone("a.test", {"web"})});
    counters.prepare(second);
    counters.prepare(third);
    counters.adopt(second);
    counters.count({a.get(), 0, -1, Tier::primary});
    CHECK(counters.table()->get(0, 0, -1, Tier::primary) == 2);
    // The table prepared for the third continued the one the worker left: it is dropped.
    counters.adopt(third);
    CHECK(counters.table()->snapshot() == third);
    CHECK(counters.table()->get(0, 0, -1, Tier::primary) == 2);
}

TEST_CASE("Counts carry over between snapshots of many zones and pools, each by its names", "[pool_counters]") {
    PoolCounters counters(1);
    std::vector<std::shared_ptr<const zone::Zone>> zones;
    std::vector<std::string> pools;
    for (int p = 0; p < 300; ++p) pools.push_back("p" + std::to_string(p));
    for (int z = 0; z < 2000; ++z) zones.push_back(make_zone("z" + std::to_string(z) + ".test", z == 7 ? pools : std::vector<std::string>{"web"}));
    counters.adopt(make_snapshot(zones));
    for (size_t z = 0; z < zones.size(); ++z) counters.count({zones[z].get(), 0, 0, Tier::primary});
    for (int32_t p = 0; p < 300; ++p)
        for (int32_t n = 0; n <= p % 3; ++n) counters.count({zones[7].get(), p, 0, Tier::fallback});

    // The reload reverses the zones, keeps all but zone 7 as they were, and
    // rebuilds zone 7 with its pools reversed.
    std::vector<std::string> reversed(pools.rbegin(), pools.rend());
    std::vector<std::shared_ptr<const zone::Zone>> next(zones.rbegin(), zones.rend());
    next[zones.size() - 1 - 7] = make_zone("z7.test", reversed);
    const auto snapshot = make_snapshot(next);
    counters.prepare(snapshot);
    counters.adopt(snapshot);
    const auto table = counters.table();
    for (size_t z = 0; z < next.size(); ++z) CHECK(table->get(z, 0, 0, Tier::primary) == (next[z]->pools[0].name == "web" || next[z]->pools[0].name == "p0" ? 1 : 0));
    const size_t seven = zones.size() - 1 - 7;
    for (size_t p = 0; p < 300; ++p) CHECK(table->get(seven, p, 0, Tier::fallback) == (299 - p) % 3 + 1);
}
