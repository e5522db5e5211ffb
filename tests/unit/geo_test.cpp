// Geo: GeoIP lookups on both record layouts, the country table, region
// resolution and tier order (SPEC §4 steps 2 and 4), and the compiled map with
// its ECS scope (step 7). The fixture databases come from
// tests/data/geoip/generate, which lists their networks.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "dnsd/geo/countries.hpp"
#include "dnsd/geo/geo.hpp"

using namespace dnsd;
using geo::Reason;

namespace {

std::string fixture(const std::string& name) { return std::string(DNSD_SOURCE_DIR) + "/tests/data/geoip/" + name; }

core::Address addr(std::string_view text) {
    auto a = core::Address::parse(text);
    REQUIRE(a);
    return *a;
}

config::Subnet subnet(std::string_view address, uint8_t prefix) { return config::Subnet{addr(address), prefix}; }

config::GeoipFields flat_fields() {
    config::GeoipFields fields;
    fields.country = {"country_code"};
    fields.continent = {};
    fields.latitude = {"latitude"};
    fields.longitude = {"longitude"};
    return fields;
}

std::unique_ptr<geo::Database> open(const std::string& name, const config::GeoipFields& fields) {
    std::string error;
    auto db = geo::Database::open(fixture(name), fields, error);
    INFO(error);
    REQUIRE(db);
    return db;
}

config::Region region(std::string name, std::vector<std::string> continents, std::vector<std::string> countries,
                      std::optional<std::pair<double, double>> location, std::vector<std::string> fallback = {}) {
    config::Region r;
    r.name = std::move(name);
    r.continents = std::move(continents);
    r.countries = std::move(countries);
    r.location = location;
    r.fallback = std::move(fallback);
    return r;
}

// The regions of SPEC §2's example, with Russia listed by country in ap so
// that country is seen to win over continent.
enum { eu, us, ap, lab };
std::vector<config::Region> spec_regions() {
    auto l = region("lab", {}, {}, std::nullopt);
    l.subnets = {subnet("10.0.0.0", 8), subnet("fd00::", 8)};
    return {region("eu", {"EU", "AF"}, {}, std::pair{50.11, 8.68}),
            region("us", {"NA", "SA"}, {}, std::pair{39.04, -77.49}),
            region("ap", {"AS", "OC"}, {"AU", "RU"}, std::pair{1.35, 103.82}, {"us"}), l};
}

geo::Place place(std::string country, std::string continent, std::optional<geo::Location> location = {}) {
    geo::Place p;
    p.country = std::move(country);
    p.continent = std::move(continent);
    p.location = location;
    return p;
}

std::vector<int32_t> vec(std::span<const int32_t> s) { return {s.begin(), s.end()}; }

// Regions as a test reads them: the name of each index in an order.
std::vector<std::string> names(const geo::Regions& regions, std::span<const int32_t> order) {
    std::vector<std::string> out;
    for (int32_t r : order) out.push_back(r < 0 ? "-" : regions.regions()[r].name);
    return out;
}
using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("geo database: GeoIP2 layout, IPv4 networks inside an IPv6 tree", "[geo]") {
    auto db = open("geoip2.mmdb", config::GeoipFields{});
    CHECK(db->ip_version() == 6);

    auto us = db->lookup(addr("198.51.100.7"));
    CHECK(us.found);
    CHECK(us.place.country == "US");
    CHECK(us.place.continent == "NA");
    CHECK_FALSE(us.place.continent_from_table);
    REQUIRE(us.place.location);
    CHECK(us.place.location->latitude_deg == Approx(37.751));
    CHECK(us.place.location->longitude_deg == Approx(-97.822));
    CHECK_FALSE(us.place.location_from_table);
    // libmaxminddb reports /120 here: the IPv4 tree sits under ::/96.
    CHECK(us.prefix == 24);
    CHECK(us.network == addr("198.51.100.0"));

    auto nested = db->lookup(addr("192.0.2.70"));
    CHECK(nested.place.country == "JP");
    CHECK(nested.prefix == 26);
    CHECK(nested.network == addr("192.0.2.64"));
    auto around_nested = db->lookup(addr("192.0.2.200"));
    CHECK(around_nested.place.country == "DE");
    CHECK(around_nested.prefix == 25);

    auto continent_only = db->lookup(addr("100.64.1.1"));
    CHECK(continent_only.found);
    CHECK(continent_only.place.country.empty());
    CHECK(continent_only.place.continent == "OC");
    CHECK_FALSE(continent_only.place.location);
    CHECK(continent_only.prefix == 16);

    auto location_only = db->lookup(addr("100.65.0.1"));
    CHECK(location_only.place.country.empty());
    CHECK(location_only.place.continent.empty());
    REQUIRE(location_only.place.location);
    CHECK(location_only.place.location->latitude_deg == Approx(64.146));

    auto nothing = db->lookup(addr("100.66.0.1"));
    CHECK(nothing.found);
    CHECK(nothing.place == geo::Place{});

    // Not in the database: the empty network around the address.
    auto absent = db->lookup(addr("10.2.0.0"));
    CHECK_FALSE(absent.found);
    CHECK(absent.prefix == 15);
    CHECK(absent.network == addr("10.2.0.0"));

    auto v6 = db->lookup(addr("2001:db8:1::5"));
    CHECK(v6.place.country == "JP");
    CHECK(v6.prefix == 48);
    CHECK(v6.network == addr("2001:db8:1::"));
    CHECK(db->lookup(addr("2001:db8:3::1")).place.country == "DE");
    CHECK(db->lookup(addr("2001:db8:3::1")).prefix == 48);
    auto v6_continent = db->lookup(addr("2001:db8:2::1"));
    CHECK(v6_continent.place.country.empty());
    CHECK(v6_continent.place.continent == "NA");

    // MaxMind's aliases of the IPv4 tree: IPv6 addresses, IPv6 prefixes.
    auto mapped = db->lookup(addr("::ffff:192.0.2.70"));
    CHECK(mapped.place.country == "JP");
    CHECK(mapped.prefix == 122);
    auto six_to_four = db->lookup(addr("2002:c000:246::"));
    CHECK(six_to_four.place.country == "JP");
    CHECK(six_to_four.prefix == 42);
}

TEST_CASE("geo database: flat layout, country-only records filled from the table", "[geo]") {
    auto db = open("flat.mmdb", flat_fields());

    auto us = db->lookup(addr("198.51.100.7"));
    CHECK(us.place.country == "US");
    CHECK(us.place.continent == "NA");
    CHECK(us.place.continent_from_table);
    REQUIRE(us.place.location);
    CHECK(us.place.location_from_table);
    CHECK(us.place.location->latitude_deg == geo::find_country("US")->latitude_deg);
    CHECK(us.prefix == 24);

    auto de = db->lookup(addr("192.0.2.1"));
    CHECK(de.place.country == "DE");
    CHECK(de.place.continent == "EU");
    REQUIRE(de.place.location);
    CHECK_FALSE(de.place.location_from_table);
    CHECK(de.place.location->latitude_deg == Approx(52.52));
    CHECK(de.prefix == 25);

    auto fr = db->lookup(addr("192.0.2.130"));
    CHECK(fr.place.country == "FR");
    CHECK(fr.prefix == 25);
    CHECK(fr.network == addr("192.0.2.128"));

    // Codes are normalised to upper case.
    CHECK(db->lookup(addr("81.2.69.1")).place.country == "GB");
    CHECK(db->lookup(addr("81.2.69.1")).place.continent == "EU");

    auto no_country = db->lookup(addr("100.64.0.1"));
    CHECK(no_country.found);
    CHECK(no_country.place.country.empty());
    CHECK(no_country.place.continent.empty());
    REQUIRE(no_country.place.location);
    CHECK(no_country.place.location->longitude_deg == Approx(151.209));

    CHECK(db->lookup(addr("2001:db8:8000::1")).place.country == "BR");
    CHECK(db->lookup(addr("2001:db8:8000::1")).prefix == 33);
    CHECK(db->lookup(addr("2001:db8::1")).place.country == "AU");
    CHECK(db->lookup(addr("2001:db8::1")).place.continent == "OC");
    auto absent = db->lookup(addr("2001:db9::"));
    CHECK_FALSE(absent.found);
    CHECK(absent.prefix == 32);
    // No aliases in this tree: the IPv4-mapped range is simply empty.
    CHECK_FALSE(db->lookup(addr("::ffff:198.51.100.7")).found);
}

TEST_CASE("geo database: IPv4-only tree", "[geo]") {
    auto db = open("v4only.mmdb", flat_fields());
    CHECK(db->ip_version() == 4);
    auto us = db->lookup(addr("198.51.100.7"));
    CHECK(us.place.country == "US");
    CHECK(us.prefix == 24);
    auto v6 = db->lookup(addr("2001:db8::1"));
    CHECK_FALSE(v6.found);
    CHECK(v6.prefix == 0);
}

TEST_CASE("geo database: a file that cannot be opened says which and why", "[geo]") {
    std::string error;
    CHECK_FALSE(geo::Database::open(fixture("missing.mmdb"), {}, error));
    CHECK_THAT(error, Catch::Contains("missing.mmdb") && Catch::Contains("No such file"));
    error.clear();
    CHECK_FALSE(geo::Database::open(fixture("generate"), {}, error));
    CHECK_THAT(error, Catch::Contains("generate") && Catch::Contains("cannot open GeoIP database"));
}

TEST_CASE("geo countries: every country has a continent and a centre", "[geo]") {
    CHECK(geo::find_country("DE")->continent == "EU");
    CHECK(geo::find_country("US")->continent == "NA");
    CHECK(geo::find_country("AU")->continent == "OC");
    CHECK(geo::find_country("BR")->continent == "SA");
    CHECK(geo::find_country("JP")->continent == "AS");
    CHECK(geo::find_country("ZA")->continent == "AF");
    CHECK(geo::find_country("AQ")->continent == "AN");
    CHECK(geo::find_country("RU")->continent == "EU");  // as GeoIP2 has it
    CHECK(geo::find_country("ZZ") == nullptr);
    CHECK(geo::find_country("de") == nullptr);
    CHECK(geo::find_country("") == nullptr);

    const std::set<std::string_view> continents{"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    auto table = geo::countries();
    CHECK(table.size() >= 249);  // every ISO 3166-1 country
    for (size_t i = 0; i < table.size(); ++i) {
        const auto& c = table[i];
        INFO(c.code);
        CHECK(c.code.size() == 2);
        CHECK(continents.count(c.continent) == 1);
        CHECK(c.latitude_deg >= -90);
        CHECK(c.latitude_deg <= 90);
        CHECK(c.longitude_deg >= -180);
        CHECK(c.longitude_deg <= 180);
        if (i > 0) CHECK(table[i - 1].code < c.code);
        CHECK(geo::find_country(c.code) == &c);
    }
    // Centres are approximate, but in the right place.
    CHECK(geo::find_country("DE")->latitude_deg == Approx(51).margin(3));
    CHECK(geo::find_country("AU")->longitude_deg == Approx(134).margin(5));
}

TEST_CASE("geo distance: great-circle distances", "[geo]") {
    geo::Location london{51.5074, -0.1278}, new_york{40.7128, -74.0060};
    CHECK(geo::distance_km(london, new_york) == Approx(5570).margin(10));
    CHECK(geo::distance_km(new_york, london) == Approx(geo::distance_km(london, new_york)));
    CHECK(geo::distance_km(london, london) == Approx(0).margin(1e-9));
    CHECK(geo::distance_km({0, 0}, {0, 180}) == Approx(20015).margin(1));
    // Across the antimeridian the short way round.
    CHECK(geo::distance_km({0, 179}, {0, -179}) == Approx(222).margin(1));
}

TEST_CASE("geo regions: resolution in SPEC order, each step with its reason", "[geo]") {
    geo::Regions regions(spec_regions(), us);

    SECTION("subnet beats the database") {
        auto r = regions.resolve(addr("10.1.2.3"), place("DE", "EU", geo::Location{51, 9}));
        CHECK(r.region == lab);
        CHECK(r.reason == Reason::subnet);
        REQUIRE(r.subnet);
        CHECK(r.subnet->network == addr("10.0.0.0"));
        CHECK(r.subnet->prefix == 8);
        CHECK(regions.resolve(addr("fd12::1"), geo::Place{}).region == lab);
        // Subnets match their own family only.
        CHECK(regions.resolve(addr("::a01:203"), geo::Place{}).reason == Reason::default_region);
    }
    SECTION("the longest subnet wins, whichever region lists it") {
        auto list = spec_regions();
        list[eu].subnets = {subnet("10.1.0.0", 16)};
        list[us].subnets = {subnet("10.1.2.0", 24)};
        geo::Regions nested(list, us);
        CHECK(nested.resolve(addr("10.1.2.3"), {}).region == us);
        CHECK(nested.resolve(addr("10.1.3.3"), {}).region == eu);
        CHECK(nested.resolve(addr("10.2.3.3"), {}).region == lab);
        CHECK(nested.resolve(addr("10.1.3.3"), {}).subnet->prefix == 16);
    }
    SECTION("country beats continent") {
        auto r = regions.resolve(addr("192.0.2.1"), place("RU", "EU"));
        CHECK(r.region == ap);
        CHECK(r.reason == Reason::country);
    }
    SECTION("continent") {
        auto r = regions.resolve(addr("192.0.2.1"), place("DE", "EU"));
        CHECK(r.region == eu);
        CHECK(r.reason == Reason::continent);
        CHECK(regions.resolve(addr("192.0.2.1"), place("", "SA")).region == us);
    }
    SECTION("nearest region with a location when nothing is listed") {
        auto r = regions.resolve(addr("192.0.2.1"), place("", "", geo::Location{64.146, -21.942}));
        CHECK(r.region == eu);
        CHECK(r.reason == Reason::distance);
        CHECK(r.distance_km == Approx(geo::distance_km({64.146, -21.942}, {50.11, 8.68})));
        CHECK(r.distance_km == Approx(2378).margin(5));  // Reykjavik to Frankfurt
        // An unlisted continent falls through to distance too.
        CHECK(regions.resolve(addr("192.0.2.1"), place("AQ", "AN", geo::Location{-77.8, 166.7})).region == ap);
    }
    SECTION("default region when the database knows nothing") {
        auto r = regions.resolve(addr("192.0.2.1"), geo::Place{});
        CHECK(r.region == us);
        CHECK(r.reason == Reason::default_region);
        CHECK(geo::to_string(r.reason) == "default");
    }
    SECTION("none without a default region") {
        geo::Regions no_default(spec_regions(), -1);
        auto r = no_default.resolve(addr("192.0.2.1"), geo::Place{});
        CHECK(r.region == -1);
        CHECK(r.reason == Reason::none);
    }
    SECTION("on a tie the first region in config order") {
        auto list = spec_regions();
        list[us].countries = {"RU"};
        list[us].continents.push_back("EU");
        geo::Regions tie(list, us);
        CHECK(tie.resolve(addr("192.0.2.1"), place("RU", "EU")).region == us);
        CHECK(tie.resolve(addr("192.0.2.1"), place("DE", "EU")).region == eu);
    }
}

TEST_CASE("geo regions: tier order", "[geo]") {
    SECTION("the region's fallback list") {
        geo::Regions regions(spec_regions(), us);
        CHECK(names(regions, regions.order(ap, geo::Location{48, 2})) == Names{"ap", "us"});
        // Unknown names, the region itself and repeats are dropped.
        auto list = spec_regions();
        list[ap].fallback = {"nowhere", "ap", "eu", "us", "eu"};
        geo::Regions odd(list, us);
        CHECK(names(odd, odd.order(ap, std::nullopt)) == Names{"ap", "eu", "us"});
    }
    SECTION("the other regions by distance from the client, unlocated ones last") {
        geo::Regions regions(spec_regions(), us);
        const geo::Location tokyo{35.69, 139.69}, paris{48.86, 2.35};
        CHECK(names(regions, regions.order(us, tokyo)) == Names{"us", "ap", "eu", "lab"});
        CHECK(names(regions, regions.order(us, paris)) == Names{"us", "eu", "ap", "lab"});
        CHECK(names(regions, regions.order(lab, tokyo)) == Names{"lab", "ap", "eu", "us"});
    }
    SECTION("from the region's location when the client has none") {
        // Config order would be ap, eu; from Ashburn eu is nearer.
        std::vector<config::Region> list{region("ap", {}, {}, std::pair{1.35, 103.82}),
                                         region("eu", {}, {}, std::pair{50.11, 8.68}),
                                         region("us", {}, {}, std::pair{39.04, -77.49})};
        geo::Regions regions(list, -1);
        CHECK(names(regions, regions.order(2, std::nullopt)) == Names{"us", "eu", "ap"});
        CHECK(names(regions, regions.order(0, std::nullopt)) == Names{"ap", "eu", "us"});
    }
    SECTION("config order when there are no coordinates") {
        std::vector<config::Region> list{region("a", {}, {}, std::nullopt), region("b", {}, {}, std::nullopt),
                                         region("c", {}, {}, std::nullopt)};
        geo::Regions regions(list, -1);
        CHECK(names(regions, regions.order(2, std::nullopt)) == Names{"c", "a", "b"});
        CHECK(names(regions, regions.order(1, geo::Location{0, 0})) == Names{"b", "a", "c"});
    }
    SECTION("a client without a region tries every region") {
        geo::Regions regions(spec_regions(), -1);
        CHECK(names(regions, regions.order(-1, std::nullopt)) == Names{"eu", "us", "ap", "lab"});
        CHECK(names(regions, regions.order(-1, geo::Location{35.69, 139.69})) == Names{"ap", "eu", "us", "lab"});
    }
}

namespace {

// What direct resolution (database lookup, then the rules) gives a client.
std::vector<int32_t> direct_order(const geo::Geo& g, const core::Address& a) { return g.explain(a).region_order; }

// Addresses spread over the fixture's networks (and their edges) and over the
// whole space.
std::vector<core::Address> sample_addresses(size_t count, uint64_t seed) {
    const std::vector<std::pair<std::string_view, unsigned>> bases{
        {"198.51.100.0", 22}, {"203.0.112.0", 22}, {"192.0.2.0", 23},  {"100.64.0.0", 14}, {"10.0.0.0", 7},
        {"172.16.0.0", 11},   {"198.18.0.0", 14},  {"81.2.69.0", 23},  {"2001:db8::", 31}, {"2001:db8::", 46},
        {"fd00::", 7},        {"2002::", 16},      {"::ffff:0:0", 96}, {"::", 96},         {"2001:4860::", 31}};
    std::mt19937_64 rng(seed);
    std::vector<core::Address> out;
    for (size_t i = 0; i < count; ++i) {
        core::Address a;
        bool anywhere = i % 4 == 0;
        const auto& [base_text, prefix] = bases[rng() % bases.size()];
        a = anywhere ? core::Address{i % 8 == 0 ? core::Family::v6 : core::Family::v4, {}} : addr(base_text);
        unsigned keep = anywhere ? 0 : prefix;
        for (unsigned bit = keep; bit < a.max_prefix(); ++bit)
            if (rng() & 1) a.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
        out.push_back(a);
    }
    return out;
}

// Every address in a/scope gets a's order: checked at both ends of the scope
// network and at random points inside it.
void check_scope(const geo::Geo& g, const core::Address& a, std::mt19937_64& rng) {
    const auto hit = g.place(a);
    const auto expected = vec(hit.region_order);
    core::Address first = a.masked(hit.scope_prefix), last = first;
    for (unsigned bit = hit.scope_prefix; bit < a.max_prefix(); ++bit)
        last.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
    INFO(a.to_string() << "/" << int(hit.scope_prefix));
    CHECK(direct_order(g, first) == expected);
    CHECK(direct_order(g, last) == expected);
    for (int i = 0; i < 4; ++i) {
        core::Address inside = first;
        for (unsigned bit = hit.scope_prefix; bit < a.max_prefix(); ++bit)
            if (rng() & 1) inside.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
        CHECK(direct_order(g, inside) == expected);
    }
}

bool overlaps_subnet(const geo::Regions& regions, const core::Address& network, unsigned prefix) {
    for (const auto& r : regions.regions())
        for (const auto& s : r.subnets) {
            if (s.network.family != network.family) continue;
            unsigned common = std::min<unsigned>(s.prefix, prefix);
            if (s.network.masked(common) == network.masked(common)) return true;
        }
    return false;
}

void check_map_against_direct(const geo::Geo& g, size_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (const auto& a : sample_addresses(count, seed)) {
        const auto hit = g.place(a);
        const auto explained = g.explain(a);
        INFO(a.to_string());
        REQUIRE(vec(hit.region_order) == explained.region_order);
        REQUIRE(hit.region == explained.resolution.region);
        // The scope is never narrower than the database's network, unless a
        // region subnet overlaps it.
        if (!overlaps_subnet(g.regions(), explained.lookup.network, explained.lookup.prefix))
            CHECK(hit.scope_prefix <= explained.lookup.prefix);
        check_scope(g, a, rng);
    }
}

// Resident kB of this process's mappings of `file`, from /proc/self/smaps;
// nullopt when the file is not mapped at all.
std::optional<long> resident_kb(const std::filesystem::path& file) {
    const std::string name = std::filesystem::canonical(file).string();
    std::ifstream smaps("/proc/self/smaps");
    std::optional<long> total;
    bool in_file = false;
    for (std::string line; std::getline(smaps, line);) {
        std::istringstream fields(line);
        std::string first, path;
        fields >> first;
        if (first.find('-') != std::string::npos) {  // a mapping's header: range perms offset dev inode path
            std::string skip;
            fields >> skip >> skip >> skip >> skip >> path;
            in_file = path == name;
            if (in_file && !total) total = 0;
        } else if (in_file && first == "Rss:") {
            long kb = 0;
            fields >> kb;
            *total += kb;
        }
    }
    return total;
}

geo::Geo make_geo(const std::string& name, const config::GeoipFields& fields, std::vector<config::Region> regions,
                  int32_t default_region) {
    return geo::Geo(name.empty() ? nullptr : open(name, fields), geo::Regions(std::move(regions), default_region));
}

}  // namespace

TEST_CASE("geo map: the same result as direct resolution, with truthful scopes", "[geo]") {
    auto with_subnets = spec_regions();
    with_subnets[eu].subnets = {subnet("198.51.100.64", 26), subnet("2001:db8:2:8000::", 49),
                                subnet("10.1.2.0", 24)};
    with_subnets[us].subnets = {subnet("192.0.2.0", 28)};
    for (int32_t default_region : {int32_t{us}, int32_t{-1}}) {
        INFO("default region " << default_region);
        check_map_against_direct(make_geo("geoip2.mmdb", {}, spec_regions(), default_region), 400, 1);
        check_map_against_direct(make_geo("geoip2.mmdb", {}, with_subnets, default_region), 400, 2);
        check_map_against_direct(make_geo("flat.mmdb", flat_fields(), with_subnets, default_region), 400, 3);
        check_map_against_direct(make_geo("v4only.mmdb", flat_fields(), with_subnets, default_region), 200, 4);
        check_map_against_direct(make_geo("", {}, with_subnets, default_region), 200, 5);
    }
}

TEST_CASE("geo map: neighbouring networks with the same answer merge", "[geo]") {
    SECTION("two halves of a /24 (US and CA, both us) make one /24") {
        auto g = make_geo("geoip2.mmdb", {}, spec_regions(), -1);
        CHECK(g.database()->lookup(addr("203.0.113.5")).prefix == 25);
        auto hit = g.place(addr("203.0.113.5"));
        CHECK(names(g.regions(), hit.region_order) == Names{"us", "eu", "ap", "lab"});
        CHECK(hit.scope_prefix == 24);
        CHECK(g.place(addr("203.0.113.200")).scope_prefix == 24);
    }
    SECTION("with a default region, empty neighbours merge too") {
        // Nothing in 200.0.0.0/5 but us networks and empty space (default us,
        // ordered from Ashburn: the same order); 198.18.0.0/15 (AQ, ap) is
        // next door.
        auto g = make_geo("geoip2.mmdb", {}, spec_regions(), us);
        CHECK(g.place(addr("203.0.113.5")).scope_prefix == 5);
        CHECK(g.place(addr("198.18.0.1")).scope_prefix == 15);
    }
    SECTION("IPv6 networks") {
        auto g = make_geo("geoip2.mmdb", {}, spec_regions(), us);
        CHECK(g.place(addr("2001:db8:1::5")).scope_prefix == 48);   // JP, between DE networks
        CHECK(g.place(addr("2001:db8:3::1")).scope_prefix == 48);   // DE, next to 2001:db8:2::/48 (NA)
        CHECK(g.place(addr("2001:db8:8000::1")).scope_prefix == 33);  // DE, the /32's other half has holes
        CHECK(names(g.regions(), g.place(addr("2001:db8:2::1")).region_order) == Names{"us", "eu", "ap", "lab"});
    }
    SECTION("without a database only the subnets split the space") {
        auto g = make_geo("", {}, spec_regions(), us);
        CHECK(g.place(addr("10.1.2.3")).scope_prefix == 8);
        CHECK(g.place(addr("8.8.8.8")).scope_prefix == 7);  // 8.0.0.0/7 is next to 10.0.0.0/8
        CHECK(g.place(addr("fd00::1")).scope_prefix == 8);
        CHECK(g.place(addr("2001:db8::1")).scope_prefix == 1);
    }
}

TEST_CASE("geo map: scopes narrow around a region subnet that decides otherwise", "[geo]") {
    auto list = spec_regions();
    list[eu].subnets = {subnet("198.51.100.64", 26), subnet("192.0.2.128", 25)};
    auto g = make_geo("geoip2.mmdb", {}, list, -1);

    // 198.51.100.0/24 is one US record; eu's /26 cuts it.
    auto below = g.place(addr("198.51.100.7"));
    CHECK(below.region == us);
    CHECK(below.scope_prefix == 26);
    auto in_subnet = g.place(addr("198.51.100.70"));
    CHECK(in_subnet.region == eu);
    CHECK(in_subnet.scope_prefix == 26);
    auto above = g.place(addr("198.51.100.200"));
    CHECK(above.region == us);
    CHECK(above.scope_prefix == 25);
    auto explained = g.explain(addr("198.51.100.70"));
    CHECK(explained.resolution.reason == Reason::subnet);
    CHECK(explained.scope_network == addr("198.51.100.64"));

    // A subnet that decides what the database already decides cuts nothing:
    // 192.0.2.128/25 is DE (eu by continent) either way.
    auto without = make_geo("geoip2.mmdb", {}, spec_regions(), -1);
    CHECK(g.place(addr("192.0.2.200")).scope_prefix == without.place(addr("192.0.2.200")).scope_prefix);
    CHECK(g.explain(addr("192.0.2.200")).resolution.reason == Reason::subnet);

    // lab's 10.0.0.0/8 holds a DE record: lab decides, ordered from the record.
    auto lab_hit = g.place(addr("10.1.2.3"));
    CHECK(lab_hit.region == lab);
    CHECK(names(g.regions(), lab_hit.region_order) == Names{"lab", "eu", "us", "ap"});
    CHECK(lab_hit.scope_prefix == 8);
}

TEST_CASE("geo map: results are few and orders are spans into one table", "[geo]") {
    auto g = make_geo("geoip2.mmdb", {}, spec_regions(), us);
    const auto& stats = g.map().stats();
    // The writer stores identical records once: US, CA, DE, JP, RU, AQ, and
    // the four without a country.
    CHECK(stats.records == 10);
    CHECK(stats.records_with_country == 6);
    CHECK(stats.records_unknown_country == 0);
    std::set<std::vector<int32_t>> distinct;
    for (uint32_t i = 0; i < stats.results; ++i) distinct.insert(vec(g.map().order(i)));
    CHECK(distinct.size() == stats.results);  // one result per distinct order
    CHECK(g.map().result(g.map().find(addr("192.0.2.70")).result).region == ap);
}

TEST_CASE("geo load: from the config, with a clear error for a bad file", "[geo]") {
    config::Config config;
    config.geoip_path = fixture("flat.mmdb");
    config.geoip_fields = flat_fields();
    config.regions = spec_regions();
    config.default_region = "us";
    std::string error;
    auto g = geo::Geo::load(config, error);
    REQUIRE(g);
    CHECK(g->place(addr("192.0.2.130")).region == eu);    // FR
    CHECK(g->place(addr("2001:db8::1")).region == ap);    // AU, by country
    CHECK(g->place(addr("100.64.0.1")).region == ap);     // Sydney's coordinates
    CHECK(g->explain(addr("100.64.0.1")).resolution.reason == Reason::distance);
    CHECK(g->place(addr("203.0.113.1")).region == us);    // default

    config.geoip_path = fixture("missing.mmdb");
    CHECK_FALSE(geo::Geo::load(config, error));
    CHECK_THAT(error, Catch::Contains("missing.mmdb"));

    config.geoip_path.clear();
    auto none = geo::Geo::load(config, error);
    REQUIRE(none);
    CHECK(none->database() == nullptr);
    CHECK(none->place(addr("10.9.9.9")).region == lab);
}

TEST_CASE("geo shipped database: well-known networks", "[geo]") {
    const std::string path = std::string(DNSD_SOURCE_DIR) + "/geoip/country.mmdb";
    if (!std::filesystem::exists(path)) {
        WARN("skipped: " << path << " is absent (tools/geoip-update fetches it)");
        return;
    }
    config::Config config;
    config.geoip_path = path;
    config.geoip_fields.country = {"country_code"};
    config.regions = spec_regions();
    config.default_region = "us";
    std::string error;
    auto g = geo::Geo::load(config, error);
    INFO(error);
    REQUIRE(g);

    // The walk read all 7.8 MB of the file; the process keeps none of it
    // (explain maps back the few pages a lookup reads), and the map is a DAG
    // of shared subtrees, about 1 MB where a tree would take 5.
    const auto mapped_kb = resident_kb(path);
    REQUIRE(mapped_kb);
    CHECK(*mapped_kb < 512);
    CHECK(g->map().stats().memory_bytes < 2'000'000);

    CHECK(g->database()->lookup(addr("8.8.8.0")).place.country == "US");
    CHECK(g->database()->lookup(addr("81.2.69.0")).place.country == "GB");
    CHECK(g->database()->lookup(addr("2001:4860::")).place.country == "US");
    CHECK(g->place(addr("8.8.8.0")).region == us);
    CHECK(g->place(addr("81.2.69.0")).region == eu);
    CHECK(g->place(addr("2001:4860::")).region == us);
    CHECK(g->explain(addr("81.2.69.0")).resolution.reason == Reason::continent);

    // Every country the database names is in the built-in table.
    const auto& stats = g->map().stats();
    CHECK(stats.records > 200);
    CHECK(stats.records_with_country == stats.records);
    CHECK(stats.records_unknown_country == 0);

    check_map_against_direct(*g, 300, 6);
}
