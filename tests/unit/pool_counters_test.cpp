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
    auto out = std::make_shared<zone::Snapshot>();
    out->zones = std::move(zones);
    return out;
}

}  // namespace

TEST_CASE("Pool answers are counted by zone, pool, region and tier", "[pool_counters]") {
    const auto a = make_zone("a.test", {"web", "api"});
    const auto b = make_zone("b.test", {"web"});
    PoolCounterTable table(*make_snapshot({a, b}), 2);

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
