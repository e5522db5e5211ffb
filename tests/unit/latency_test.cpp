// Latency routing (SPEC §12): beacons aggregated per /24 and /48 with a
// decaying mean (the clock is an argument), the distance estimate, region
// orders mixing measured and estimated RTTs, the compiled routes and their ECS
// scope, and the beacon body, table file and state file parsers.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "dnsd/latency/measurements.hpp"
#include "dnsd/latency/routes.hpp"

using namespace dnsd;
using latency::Beacon;
using latency::Measurements;
using latency::Source;

namespace {

core::Address addr(std::string_view text) {
    auto a = core::Address::parse(text);
    REQUIRE(a);
    return *a;
}

config::Region site(std::string name, double latitude, double longitude) {
    config::Region region;
    region.name = std::move(name);
    region.location = std::pair{latitude, longitude};
    return region;
}

// Frankfurt, Ashburn and Singapore, as the built-in defaults.
geo::Regions three_sites() {
    return geo::Regions({site("eu", 50.11, 8.68), site("us", 39.04, -77.49), site("ap", 1.35, 103.82)}, 1);
}

const std::vector<std::string_view> names{"eu", "us", "ap"};
constexpr int32_t eu = 0, us = 1, ap = 2;
constexpr uint32_t t0 = 1'800'000'000;  // any Unix time
const geo::Location london{51.5074, -0.1278};

}  // namespace

TEST_CASE("networks: a client's /24 or /48", "[latency]") {
    CHECK(latency::to_string(latency::network_of(addr("81.2.69.17"))) == "81.2.69.0/24");
    CHECK(latency::to_string(latency::network_of(addr("2001:db8:1234:5678::1"))) == "2001:db8:1234::/48");
    CHECK(latency::network_of(addr("81.2.69.1")) == latency::network_of(addr("81.2.69.254")));
    CHECK(latency::network_of(addr("81.2.68.255")) != latency::network_of(addr("81.2.69.0")));
    // IPv4 and IPv6 never share a key, even where their bits agree.
    CHECK(latency::network_of(addr("0.0.0.1")) != latency::network_of(addr("::1")));
    CHECK(latency::first_address(latency::network_of(addr("2001:db8:ffff:1::"))) == addr("2001:db8:ffff::"));
}

TEST_CASE("aggregation: a decaying mean per network and region", "[latency]") {
    Measurements m(3, 3600);
    for (int i = 0; i < 5; ++i) m.add(Beacon{addr("81.2.69.17"), eu, 20}, t0);
    REQUIRE(m.size() == 1);
    const auto cells = m.cells(0);
    CHECK(cells[eu].samples == 5);
    CHECK(cells[eu].mean_ms == Approx(20));
    CHECK(cells[eu].weight == Approx(5));
    CHECK(cells[us].samples == 0);

    SECTION("another client of the same /24 counts for it; one of the next /24 does not") {
        m.add(Beacon{addr("81.2.69.200"), eu, 26}, t0);
        m.add(Beacon{addr("81.2.70.1"), eu, 99}, t0);
        REQUIRE(m.size() == 2);
        CHECK(m.cells(0)[eu].samples == 6);
        CHECK(m.cells(0)[eu].mean_ms == Approx(21));  // (5 * 20 + 26) / 6
        CHECK(m.cells(1)[eu].mean_ms == Approx(99));
    }
    SECTION("after one half-life the old samples weigh half") {
        m.add(Beacon{addr("81.2.69.17"), eu, 80}, t0 + 3600);
        // weight 5 / 2 + 1 = 3.5; mean 20 + (80 - 20) / 3.5
        CHECK(m.cells(0)[eu].weight == Approx(3.5));
        CHECK(m.cells(0)[eu].mean_ms == Approx(20 + 60 / 3.5));
        CHECK(m.cells(0)[eu].samples == 6);
        CHECK(m.cells(0)[eu].updated_s == t0 + 3600);
    }
    SECTION("a network that moved is followed within a few half-lives") {
        for (uint32_t hour = 1; hour <= 8; ++hour)
            for (int i = 0; i < 5; ++i) m.add(Beacon{addr("81.2.69.17"), eu, 100}, t0 + hour * 3600);
        CHECK(m.cells(0)[eu].mean_ms > 99);
    }
    SECTION("without a half-life passing, the mean is the plain mean") {
        m.add(Beacon{addr("81.2.69.17"), eu, 50}, t0);
        CHECK(m.cells(0)[eu].mean_ms == Approx(25));  // (5 * 20 + 50) / 6
    }
    SECTION("a clock that stepped back decays nothing") {
        m.add(Beacon{addr("81.2.69.17"), eu, 50}, t0 - 7200);
        CHECK(m.cells(0)[eu].mean_ms == Approx(25));
        CHECK(m.cells(0)[eu].updated_s == t0);
    }
}

TEST_CASE("estimate: about 1 ms per 100 km plus 5 ms, over known city pairs", "[latency]") {
    struct Pair {
        geo::Location a, b;
        double km;  // published great-circle distance
    };
    const Pair pairs[] = {
        {london, {48.8566, 2.3522}, 344},                 // London - Paris
        {{40.7128, -74.0060}, {34.0522, -118.2437}, 3936},  // New York - Los Angeles
        {{-33.8688, 151.2093}, {1.3521, 103.8198}, 6307},   // Sydney - Singapore
    };
    for (const auto& pair : pairs) {
        const double km = geo::distance_km(pair.a, pair.b);
        CHECK(km == Approx(pair.km).epsilon(0.01));
        CHECK(latency::estimate_ms(km) == Approx(pair.km / 100 + 5).epsilon(0.01));
    }
    CHECK(latency::estimate_ms(0) == 5);
}

TEST_CASE("order: measured regions use their measurement, the others the estimate", "[latency]") {
    const geo::Regions regions = three_sites();
    Measurements m(3, 3600);
    const core::Address client = addr("81.2.69.17");
    SECTION("nothing measured: every region estimated, nearest first") {
        m.add(Beacon{client, eu, 15}, t0);  // one beacon: under min_samples
        m.locate(nullptr, false);
        const auto rtts = latency::region_rtts(m.cells(0), london, regions, 5);
        CHECK(rtts[eu].source == Source::estimated);
        CHECK(rtts[eu].distance_km == Approx(638).epsilon(0.01));
        CHECK(rtts[eu].rtt_ms == Approx(11.38).epsilon(0.01));
        CHECK(rtts[us].rtt_ms == Approx(64.18).epsilon(0.01));
        CHECK(rtts[ap].rtt_ms == Approx(113.48).epsilon(0.01));
        CHECK_FALSE(latency::any_measured(rtts));
        CHECK(latency::order_by_rtt(rtts) == std::vector<int32_t>{eu, us, ap});
    }
    SECTION("a slow measured region goes after faster estimated ones") {
        for (int i = 0; i < 5; ++i) m.add(Beacon{client, eu, 200}, t0);
        const auto rtts = latency::region_rtts(m.cells(0), london, regions, 5);
        CHECK(rtts[eu].source == Source::measured);
        CHECK(rtts[eu].rtt_ms == Approx(200));
        CHECK(rtts[eu].samples == 5);
        CHECK(rtts[us].source == Source::estimated);
        CHECK(latency::any_measured(rtts));
        CHECK(latency::order_by_rtt(rtts) == std::vector<int32_t>{us, ap, eu});
    }
    SECTION("a measurement beats a nearer region's estimate") {
        for (int i = 0; i < 5; ++i) m.add(Beacon{client, ap, 9}, t0);
        const auto rtts = latency::region_rtts(m.cells(0), london, regions, 5);
        CHECK(latency::order_by_rtt(rtts) == std::vector<int32_t>{ap, eu, us});
    }
    SECTION("beacons past min_samples beat the table; the table beats the estimate") {
        const latency::TableRow table[] = {{latency::network_of(client), us, 3}, {latency::network_of(client), eu, 90}};
        m.set_table(table);
        for (int i = 0; i < 5; ++i) m.add(Beacon{client, eu, 100}, t0);
        const auto rtts = latency::region_rtts(m.cells(0), london, regions, 5);
        CHECK(rtts[us].source == Source::table);
        CHECK(rtts[us].rtt_ms == Approx(3));
        CHECK(rtts[eu].source == Source::measured);
        CHECK(rtts[eu].rtt_ms == Approx(100));
        CHECK(latency::order_by_rtt(rtts) == std::vector<int32_t>{us, eu, ap});
        // A reload without the line forgets it.
        m.set_table({});
        CHECK(latency::region_rtts(m.cells(0), london, regions, 5)[us].source == Source::estimated);
    }
    SECTION("without a location, unmeasured regions are unknown and go last in config order") {
        for (int i = 0; i < 5; ++i) m.add(Beacon{client, ap, 50}, t0);
        const auto rtts = latency::region_rtts(m.cells(0), std::nullopt, regions, 5);
        CHECK(rtts[eu].source == Source::unknown);
        CHECK(std::isinf(rtts[eu].rtt_ms));
        CHECK(latency::order_by_rtt(rtts) == std::vector<int32_t>{ap, eu, us});
    }
}

TEST_CASE("routes: measured networks by RTT with their prefix as scope, the others by geo, kept apart", "[latency]") {
    config::Region lab;
    lab.name = "lab";
    lab.subnets = {config::Subnet{addr("10.0.0.0"), 8}, config::Subnet{addr("81.2.99.128"), 25}};
    auto list = std::vector<config::Region>{site("eu", 50.11, 8.68), site("us", 39.04, -77.49),
                                            site("ap", 1.35, 103.82), lab};
    const geo::Regions regions(list, 1);
    Measurements m(4, 3600);
    for (int i = 0; i < 5; ++i) {
        m.add(Beacon{addr("81.2.69.17"), ap, 10}, t0);      // routed: ap first
        m.add(Beacon{addr("2001:db8:1::1"), us, 10}, t0);   // routed: us first
        m.add(Beacon{addr("10.1.2.3"), ap, 10}, t0);        // inside lab's subnet: geo decides
        m.add(Beacon{addr("81.2.99.1"), ap, 10}, t0);       // a lab subnet inside it: geo decides
    }
    for (int i = 0; i < 4; ++i) m.add(Beacon{addr("81.2.80.1"), ap, 10}, t0);  // under min_samples
    m.locate(nullptr, false);
    const auto routes = latency::Routes::build(m, regions, 5);
    CHECK(routes->stats().networks == 2);
    CHECK(routes->stats().inside_subnets == 2);

    const int32_t geo_order[] = {0, 1, 2, 3};
    const geo::Placement by_geo{0, geo_order, 8};

    const geo::Placement measured = routes->place(addr("81.2.69.200"), by_geo);
    CHECK(measured.region == ap);
    CHECK(measured.region_order.front() == ap);
    CHECK(measured.scope_prefix == 24);
    CHECK(routes->measured(addr("81.2.69.200")));
    const geo::Placement measured6 = routes->place(addr("2001:db8:1:ffff::1"), by_geo);
    CHECK(measured6.region == us);
    CHECK(measured6.scope_prefix == 48);

    SECTION("a neighbouring network keeps geo's order, in a scope that holds no measured network") {
        const geo::Placement next = routes->place(addr("81.2.68.1"), by_geo);
        CHECK(next.region == 0);
        CHECK(next.region_order.data() == by_geo.region_order.data());
        // 81.2.68.0 and 81.2.69.0 share 23 bits: the scope is /24.
        CHECK(next.scope_prefix == 24);
        CHECK_FALSE(routes->measured(addr("81.2.68.1")));
        // 81.2.64.0/22 holds 81.2.69.0/24 (and 81.2.80.0/24 is not routed): /22 is too wide.
        CHECK(routes->place(addr("81.2.64.1"), by_geo).scope_prefix == 22);
        // 81.0.0.0/15 holds nothing measured: geo's /8 is narrowed to /15 only.
        CHECK(routes->place(addr("81.0.0.1"), by_geo).scope_prefix == 15);
        // Far from every measured network, geo's own scope stands.
        CHECK(routes->place(addr("192.0.2.1"), by_geo).scope_prefix == 8);
        // Narrower than the neighbours need: geo's scope stands.
        const geo::Placement narrow{0, geo_order, 30};
        CHECK(routes->place(addr("81.2.68.1"), narrow).scope_prefix == 30);
    }
    SECTION("IPv6 neighbours") {
        CHECK(routes->place(addr("2001:db8::1"), by_geo).scope_prefix == 48);
        CHECK(routes->place(addr("2001:db9::1"), by_geo).scope_prefix == 32);
    }
    SECTION("a network under min_samples, or beside a region subnet, is geo's") {
        CHECK_FALSE(routes->measured(addr("81.2.80.1")));
        CHECK_FALSE(routes->measured(addr("10.1.2.3")));
        CHECK_FALSE(routes->measured(addr("81.2.99.1")));
    }
}

TEST_CASE("beacons: the body of POST /v1/latency", "[latency]") {
    std::string error;
    SECTION("good") {
        const auto beacons = latency::parse_beacons(
            R"([{"client": "81.2.69.17", "region": "ap", "rtt_ms": 18.5}, {"client": "2001:db8::1", "region": "eu", "rtt_ms": 3}])",
            names, error);
        REQUIRE(beacons);
        REQUIRE(beacons->size() == 2);
        CHECK((*beacons)[0].region == ap);
        CHECK((*beacons)[0].rtt_ms == 18.5);
        CHECK((*beacons)[1].client == addr("2001:db8::1"));
        CHECK(latency::parse_beacons("[]", names, error)->empty());
    }
    SECTION("each bad beacon is named by its index") {
        const std::pair<std::string, std::string> cases[] = {
            {"not json", "not JSON"},
            {R"({"client": "81.2.69.17"})", "a JSON array"},
            {R"([{"client": "81.2.69.17", "region": "eu", "rtt_ms": 1}, 7])", "beacon 1: not an object"},
            {R"([{"client": "81.2.69.300", "region": "eu", "rtt_ms": 1}])", "beacon 0: \"client\""},
            {R"([{"region": "eu", "rtt_ms": 1}])", "beacon 0: \"client\""},
            {R"([{"client": "81.2.69.17", "region": "mars", "rtt_ms": 1}])", "beacon 0: no region \"mars\"; the regions are eu, us, ap"},
            {R"([{"client": "81.2.69.17", "region": "eu", "rtt_ms": 0}])", "beacon 0: \"rtt_ms\""},
            {R"([{"client": "81.2.69.17", "region": "eu", "rtt_ms": -3}])", "beacon 0: \"rtt_ms\""},
            {R"([{"client": "81.2.69.17", "region": "eu", "rtt_ms": 60001}])", "beacon 0: \"rtt_ms\""},
            {R"([{"client": "81.2.69.17", "region": "eu", "rtt_ms": "5"}])", "beacon 0: \"rtt_ms\""},
            {R"([{"client": "81.2.69.17", "region": "eu", "rtt_ms": 5, "rtt": 5}])", "beacon 0: unknown key \"rtt\""},
        };
        for (const auto& [body, expected] : cases) {
            INFO(body);
            error.clear();
            CHECK_FALSE(latency::parse_beacons(body, names, error));
            CHECK(error.find(expected) != std::string::npos);
        }
    }
    SECTION("at most 10,000 a request") {
        std::string body = "[";
        for (size_t i = 0; i <= latency::max_beacons; ++i)
            body += std::string(i ? "," : "") + R"({"client": "81.2.69.17", "region": "eu", "rtt_ms": 1})";
        body += "]";
        CHECK_FALSE(latency::parse_beacons(body, names, error));
        CHECK(error.find("at most 10000") != std::string::npos);
    }
}

TEST_CASE("table file: prefix,region,rtt_ms lines with FILE:LINE:COL problems", "[latency]") {
    core::Diagnostics problems;
    const std::string text =
        "prefix,region,rtt_ms\n"
        "# measured by the NOC\n"
        "81.2.69.0/24, eu, 18.5\n"
        "\n"
        "2001:db8:1::/48,ap,40\n"
        "81.2.70.7,us,12\n"
        "81.2.0.0/16,eu,10\n"
        "81.2.71.0/24,mars,10\n"
        "81.2.72.0/24,eu,fast\n"
        "81.2.73.0/24,eu\n"
        "81.2.69.128/25,eu,20\n"
        "bogus,eu,1\n"
        "81.2.74.0/24,eu,0\n";
    const auto rows = latency::parse_table(text, "latency.csv", names, problems);
    REQUIRE(rows.size() == 3);
    CHECK(latency::to_string(rows[0].network) == "81.2.69.0/24");
    CHECK(rows[0].region == eu);
    CHECK(rows[0].rtt_ms == Approx(18.5));
    CHECK(latency::to_string(rows[1].network) == "2001:db8:1::/48");
    CHECK(latency::to_string(rows[2].network) == "81.2.70.0/24");
    std::vector<std::string> lines;
    for (const auto& p : problems) lines.push_back(p.to_string());
    const std::vector<std::string> expected{
        "latency.csv:7:1: \"81.2.0.0/16\" is wider than a /24; measurements are per /24 (IPv4) and /48 (IPv6): list "
        "each network",
        "latency.csv:8:14: no region \"mars\"; the regions are eu, us, ap",
        "latency.csv:9:17: \"fast\" is not an RTT; give milliseconds above 0 and at most 60000, such as 18.5",
        "latency.csv:10:1: expected prefix,region,rtt_ms (such as 81.2.69.0/24,eu,18.5), found 2 fields",
        "latency.csv:11:1: 81.2.69.0/24 is listed twice for region \"eu\"; keep one line",
        "latency.csv:12:1: \"bogus\" is not an IP address",
        "latency.csv:13:17: \"0\" is not an RTT; give milliseconds above 0 and at most 60000, such as 18.5",
    };
    CHECK(lines == expected);
}

TEST_CASE("state: the aggregates survive a save and a restore", "[latency]") {
    Measurements m(3, 3600);
    for (int i = 0; i < 7; ++i) m.add(Beacon{addr("81.2.69.17"), ap, 10.0 + i}, t0 + static_cast<uint32_t>(i) * 600);
    m.add(Beacon{addr("2001:db8::1"), us, 33.25}, t0);
    const latency::TableRow table[] = {{latency::network_of(addr("192.0.2.1")), eu, 5}};
    m.set_table(table);  // not kept: the table is its own file
    const std::string saved = m.save(names);

    Measurements back(3, 3600);
    std::string warning;
    back.restore(saved, "latency-measurements.csv", names, warning);
    CHECK(warning.empty());
    REQUIRE(back.size() == 2);
    const auto row = back.find(latency::network_of(addr("81.2.69.1")));
    REQUIRE(row >= 0);
    const latency::Cell& original = m.cells(static_cast<size_t>(m.find(latency::network_of(addr("81.2.69.1")))))[ap];
    const latency::Cell& restored = back.cells(static_cast<size_t>(row))[ap];
    CHECK(restored.mean_ms == original.mean_ms);
    CHECK(restored.weight == original.weight);
    CHECK(restored.samples == 7);
    CHECK(restored.updated_s == t0 + 3600);
    CHECK_FALSE(restored.has_table());

    SECTION("a region no longer configured is dropped, the rest kept") {
        const std::vector<std::string_view> fewer{"eu", "us"};
        Measurements two(2, 3600);
        two.restore(saved, "f", fewer, warning);
        CHECK(warning.empty());
        CHECK(two.size() == 1);
    }
    SECTION("a damaged file is a warning with its position, and nothing is restored") {
        Measurements bad(3, 3600);
        std::string damaged = saved;
        damaged.insert(damaged.find('\n') + 1, "81.2.69.0/24,ap,ten,1,1,1\n");
        bad.restore(damaged, "f", names, warning);
        CHECK(warning == "f:2:17: not an RTT");
        CHECK(bad.size() == 0);
        warning.clear();
        bad.restore("{\"version\": 1}", "f", names, warning);
        CHECK(warning == "f:1:1: not a dnsd latency measurements file of version 1");
    }
}

TEST_CASE("fleet: two nodes' aggregates merged are what one node that saw every beacon holds", "[latency]") {
    // Beacons of one network posted to two nodes, interleaved over hours (so
    // that weights decay), and all of them to a third that saw everything.
    Measurements a(3, 3600), b(3, 3600), all(3, 3600);
    const auto client = addr("81.2.69.17");
    struct Posted {
        uint32_t at;
        int32_t region;
        double rtt_ms;
        bool to_a;
    };
    const Posted beacons[] = {{t0, eu, 20, true},         {t0 + 60, us, 30, true},     {t0 + 600, eu, 60, false},
                              {t0 + 3600, us, 35, false}, {t0 + 3700, eu, 62, false},  {t0 + 7200, us, 36, false},
                              {t0 + 7300, eu, 58, false}, {t0 + 9000, us, 33, true},   {t0 + 9100, ap, 90, true}};
    for (const Posted& p : beacons) {
        (p.to_a ? a : b).add(Beacon{client, p.region, p.rtt_ms}, p.at);
        all.add(Beacon{client, p.region, p.rtt_ms}, p.at);
    }
    Measurements merged(3, 3600);
    const auto network = latency::network_of(client);
    for (int32_t r = 0; r < 3; ++r) {
        latency::Cell sum;
        for (const Measurements* node : {&a, &b}) sum = latency::merge(sum, node->cells(0)[size_t(r)], 3600);
        merged.set_beacons(network, r, sum);
        const latency::Cell &got = merged.cells(0)[size_t(r)], &want = all.cells(0)[size_t(r)];
        INFO("region " << names[size_t(r)]);
        CHECK(got.samples == want.samples);
        CHECK(got.updated_s == want.updated_s);
        CHECK(got.mean_ms == Approx(want.mean_ms).epsilon(1e-5));
        CHECK(got.weight == Approx(want.weight).epsilon(1e-5));
    }
    // In either order.
    const latency::Cell ab = latency::merge(a.cells(0)[us], b.cells(0)[us], 3600);
    const latency::Cell ba = latency::merge(b.cells(0)[us], a.cells(0)[us], 3600);
    CHECK(ab.mean_ms == Approx(ba.mean_ms));
    CHECK(ab.weight == Approx(ba.weight));
    // Node a alone, with one fast beacon from eu, would put eu first; every
    // beacon together puts us first (34 ms against 55), and so does the merge.
    const geo::Regions regions = three_sites();
    auto order = [&](const Measurements& m) {
        return latency::order_by_rtt(latency::region_rtts(m.cells(0), london, regions, 1));
    };
    CHECK(order(merged) == order(all));
    CHECK(order(a) != order(all));
    CHECK(order(all).front() == us);
    // The table's RTT of the first stays.
    latency::Cell with_table = a.cells(0)[eu];
    with_table.table_ms = 12;
    CHECK(latency::merge(with_table, b.cells(0)[eu], 3600).table_ms == 12);
    CHECK(latency::merge(latency::Cell{}, latency::Cell{}, 3600).samples == 0);
}
