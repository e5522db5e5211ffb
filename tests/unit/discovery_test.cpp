// Discovery (SPEC §11): the refresh and empty-set rules with an injected clock
// and injected outcomes, the response reader on hand-built responses, and the
// mapping of what a source found onto pool members.
#include <catch2/catch.hpp>

#include "dnsd/discovery/discovery.hpp"
#include "dnsd/discovery/refresh.hpp"
#include "dnsd/discovery/response.hpp"
#include "packet.hpp"

using namespace dnsd;
using discovery::Found;
using discovery::Outcome;
using discovery::SourceRefresh;

namespace {

core::Address address(std::string_view text) { return *core::Address::parse(text); }

Outcome found(std::vector<std::string_view> addresses, uint32_t ttl_s) {
    Outcome o{Outcome::Kind::found, {}, ttl_s, addresses.size(), {}};
    for (auto a : addresses) o.members.push_back({address(a), 0, 0, 1});
    o.members = discovery::sorted_members(std::move(o.members));
    return o;
}
Outcome empty(std::string error = "NXDOMAIN", uint32_t negative_ttl_s = 0) {
    return {Outcome::Kind::empty, {}, negative_ttl_s, 0, std::move(error)};
}
Outcome failed(std::string error = "SERVFAIL") { return {Outcome::Kind::failed, {}, 0, 0, std::move(error)}; }

constexpr uint64_t s = 1000;  // ms per second, for readable clocks

}  // namespace

TEST_CASE("refresh: the first lookup is due at once, the next when the TTL runs out, clamped", "[discovery]") {
    SourceRefresh r(5, 300, 10 * s);
    CHECK(r.due_ms() == 10 * s);
    CHECK(r.wait_ms(10 * s) == 0);

    CHECK(r.record(found({"192.0.2.1", "192.0.2.2"}, 60), 11 * s));
    CHECK(r.members().size() == 2);
    CHECK(r.due_ms() == 71 * s);
    CHECK(r.ttl_s() == 60);
    CHECK(r.records() == 2);
    CHECK(r.error().empty());

    // Below refresh_min and above refresh_max.
    CHECK_FALSE(r.record(found({"192.0.2.1", "192.0.2.2"}, 0), 71 * s));
    CHECK(r.due_ms() == 76 * s);
    CHECK_FALSE(r.record(found({"192.0.2.2", "192.0.2.1"}, 86400), 76 * s));  // same set, other order
    CHECK(r.due_ms() == 376 * s);
    CHECK(r.refreshes() == 3);
    CHECK(r.last_refresh_ms() == 76 * s);

    CHECK(r.record(found({"192.0.2.3"}, 30), 400 * s));
    REQUIRE(r.members().size() == 1);
    CHECK(r.members()[0].address == address("192.0.2.3"));
}

TEST_CASE("refresh: NXDOMAIN or NODATA empties the set only on the second answer in a row", "[discovery]") {
    SourceRefresh r(5, 300, 0);
    REQUIRE(r.record(found({"192.0.2.1"}, 60), 0));

    CHECK_FALSE(r.record(empty("NXDOMAIN"), 60 * s));
    CHECK(r.members().size() == 1);  // kept
    CHECK(r.empties() == 1);
    CHECK(r.due_ms() == 65 * s);     // confirmed after refresh_min
    CHECK(r.error() == "NXDOMAIN");

    CHECK(r.record(empty("NODATA", 120), 65 * s));
    CHECK(r.members().empty());
    CHECK(r.due_ms() == 185 * s);  // the negative TTL, clamped
    CHECK_FALSE(r.record(empty("NXDOMAIN"), 185 * s));  // empty stays empty
    CHECK(r.due_ms() == 190 * s);

    SECTION("an answer with members between two empty ones breaks the run") {
        REQUIRE(r.record(found({"192.0.2.1"}, 60), 200 * s));
        CHECK_FALSE(r.record(empty(), 260 * s));
        CHECK(r.record(found({"192.0.2.9"}, 60), 265 * s));
        CHECK_FALSE(r.record(empty(), 325 * s));
        CHECK(r.members().size() == 1);
    }
    SECTION("so does a failure") {
        REQUIRE(r.record(found({"192.0.2.1"}, 60), 200 * s));
        CHECK_FALSE(r.record(empty(), 260 * s));
        CHECK_FALSE(r.record(failed(), 265 * s));
        CHECK_FALSE(r.record(empty(), 270 * s));
        CHECK(r.members().size() == 1);
        CHECK(r.record(empty(), 275 * s));
        CHECK(r.members().empty());
    }
}

TEST_CASE("refresh: a failure keeps the set and retries sooner, backing off up to refresh_max", "[discovery]") {
    SourceRefresh r(2, 20, 0);
    REQUIRE(r.record(found({"192.0.2.1", "2001:db8::1"}, 3600), 0));
    CHECK(r.due_ms() == 20 * s);

    uint64_t now = 20 * s;
    const uint64_t waits[] = {2, 4, 8, 16, 20, 20};
    for (uint64_t wait : waits) {
        CHECK_FALSE(r.record(failed("Timeout while contacting DNS servers"), now));
        CHECK(r.members().size() == 2);
        CHECK(r.due_ms() == now + wait * s);
        now = r.due_ms();
    }
    CHECK(r.failures() == 6);
    CHECK(r.error() == "Timeout while contacting DNS servers");

    CHECK_FALSE(r.record(found({"2001:db8::1", "192.0.2.1"}, 10), now));
    CHECK(r.failures() == 0);
    CHECK(r.error().empty());
    CHECK(r.due_ms() == now + 10 * s);
}

TEST_CASE("refresh: a first answer that is empty gives an empty set at once, a failure gives none", "[discovery]") {
    SourceRefresh r(5, 300, 0);
    CHECK_FALSE(r.record(failed(), 0));
    CHECK(r.members().empty());
    CHECK(r.due_ms() == 5 * s);
    CHECK_FALSE(r.record(empty(), 5 * s));  // nothing to keep, nothing changes
    CHECK(r.due_ms() == 10 * s);
    CHECK(r.record(found({"192.0.2.1"}, 1), 10 * s));
}

TEST_CASE("sorted_members: by address, each address once", "[discovery]") {
    auto members = discovery::sorted_members({{address("192.0.2.2"), 80, 1, 5},
                                              {address("2001:db8::1"), 80, 0, 1},
                                              {address("192.0.2.1"), 80, 0, 1},
                                              {address("192.0.2.2"), 8080, 0, 9}});
    REQUIRE(members.size() == 3);
    CHECK(members[0].address == address("192.0.2.1"));
    CHECK(members[1].address == address("192.0.2.2"));
    CHECK(members[1].port == 80);  // the first one listed
    CHECK(members[2].address == address("2001:db8::1"));
}

TEST_CASE("to_members: the source's region, weight and state on every member, SRV's port, priority, weight",
          "[discovery]") {
    zone::MemberSource a{"web.service.consul.", zone::rrtype::A, 1, 3, zone::MemberState::down, {}, 5, 300};
    auto members = discovery::to_members(a, {{address("192.0.2.1"), 0, 0, 1}});
    REQUIRE(members.size() == 1);
    CHECK(members[0].region == 1);
    CHECK(members[0].weight == 3);
    CHECK(members[0].state == zone::MemberState::down);
    CHECK(members[0].port == 0);
    CHECK(members[0].health_slot == UINT32_MAX);

    zone::MemberSource srv{"_web._tcp.service.consul.", zone::rrtype::SRV, -1, {}, zone::MemberState::automatic,
                           {}, 5, 300};
    members = discovery::to_members(srv, {{address("192.0.2.1"), 8080, 10, 7}});
    REQUIRE(members.size() == 1);
    CHECK(members[0].region == -1);
    CHECK(members[0].port == 8080);
    CHECK(members[0].priority == 10);
    CHECK(members[0].weight == 7);
    srv.weight = 2;  // given on the source, it wins over the record's
    CHECK(discovery::to_members(srv, {{address("192.0.2.1"), 8080, 10, 7}})[0].weight == 2);
    CHECK(discovery::source_label(srv) == "dns:_web._tcp.service.consul.");
}

namespace {

// A response: header with QR (and RD, RA), then the question.
test::Bytes response(uint16_t rcode, std::string_view name, uint16_t type, uint16_t answers, uint16_t authorities) {
    test::Bytes b;
    b.header(0x1234, static_cast<uint16_t>(0x8180 | rcode), 1, answers, authorities, 0);
    b.name(name).u16(type).u16(1);
    return b;
}

}  // namespace

TEST_CASE("parse_response: A, AAAA and SRV answers, CNAMEs, TTLs and the negative TTL", "[discovery]") {
    using zone::rrtype::A;
    using zone::rrtype::AAAA;
    using zone::rrtype::SRV;

    SECTION("A behind a CNAME: the least TTL of the chain") {
        auto b = response(0, "web.example.", A, 3, 0);
        b.u16(0xc00c).u16(5).u16(1).u32(50).u16(11).name("x.example");  // CNAME, compressed owner
        b.name("x.example").u16(A).u16(1).u32(90).u16(4).raw({192, 0, 2, 1});
        b.name("x.example").u16(A).u16(1).u32(70).u16(4).raw({192, 0, 2, 2});
        auto r = discovery::parse_response(b.data, A);
        REQUIRE(r);
        CHECK(r->rcode == 0);
        REQUIRE(r->addresses.size() == 2);
        CHECK(r->addresses[1] == address("192.0.2.2"));
        CHECK(r->ttl_s == 50u);
    }
    SECTION("AAAA; records of other types and classes are not taken") {
        auto b = response(0, "web.example.", AAAA, 3, 0);
        b.u16(0xc00c).u16(AAAA).u16(1).u32(30).u16(16).raw(address("2001:db8::5").bytes);
        b.u16(0xc00c).u16(A).u16(1).u32(5).u16(4).raw({192, 0, 2, 1});
        b.u16(0xc00c).u16(AAAA).u16(3).u32(5).u16(16).raw(address("2001:db8::6").bytes);
        auto r = discovery::parse_response(b.data, AAAA);
        REQUIRE(r);
        REQUIRE(r->addresses.size() == 1);
        CHECK(r->addresses[0] == address("2001:db8::5"));
        CHECK(r->ttl_s == 30u);
    }
    SECTION("SRV: priority, weight, port and the target as an absolute name") {
        auto b = response(0, "_web._tcp.example.", SRV, 2, 0);
        b.u16(0xc00c).u16(SRV).u16(1).u32(20).u16(6 + 15).u16(10).u16(5).u16(8080).name("Web-1.Example");
        b.u16(0xc00c).u16(SRV).u16(1).u32(10).u16(6 + 1).u16(20).u16(0).u16(80).name(".");
        auto r = discovery::parse_response(b.data, SRV);
        REQUIRE(r);
        REQUIRE(r->services.size() == 2);
        CHECK(r->services[0].priority == 10);
        CHECK(r->services[0].weight == 5);
        CHECK(r->services[0].port == 8080);
        CHECK(r->services[0].target == "web-1.example.");
        CHECK(r->services[1].target == ".");
        CHECK(r->ttl_s == 10u);
        CHECK(r->records() == 2);
    }
    SECTION("NXDOMAIN with an SOA: min(SOA TTL, MINIMUM)") {
        auto b = response(3, "gone.example.", A, 0, 1);
        b.name("example").u16(6).u16(1).u32(600).u16(1 + 1 + 20).name(".").name(".");
        b.u32(1).u32(3600).u32(600).u32(86400).u32(45);
        auto r = discovery::parse_response(b.data, A);
        REQUIRE(r);
        CHECK(r->rcode == 3);
        CHECK(r->records() == 0);
        CHECK_FALSE(r->ttl_s);
        CHECK(r->negative_ttl_s == 45u);
    }
    SECTION("malformed: no QR bit, truncated records, an A of the wrong size, an SRV that overruns") {
        auto query = response(0, "web.example.", A, 0, 0);
        query.data[2] &= 0x7f;
        CHECK_FALSE(discovery::parse_response(query.data, A));

        auto b = response(0, "web.example.", A, 1, 0);
        b.u16(0xc00c).u16(A).u16(1).u32(30).u16(4).raw({192, 0, 2});
        CHECK_FALSE(discovery::parse_response(b.data, A));

        auto wrong = response(0, "web.example.", A, 1, 0);
        wrong.u16(0xc00c).u16(A).u16(1).u32(30).u16(5).raw({192, 0, 2, 1, 1});
        CHECK_FALSE(discovery::parse_response(wrong.data, A));

        auto srv = response(0, "_web._tcp.example.", SRV, 1, 0);
        srv.u16(0xc00c).u16(SRV).u16(1).u32(30).u16(7).u16(1).u16(1).u16(80).name("long.example");
        CHECK_FALSE(discovery::parse_response(srv.data, SRV));

        CHECK_FALSE(discovery::parse_response({}, A));
    }
}
