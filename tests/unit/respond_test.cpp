// The responder against zones built by hand, so that each test names exactly
// the data it depends on. Responses are decoded by tests/unit/packet.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "dnsd/answer/respond.hpp"
#include "dnsd/wire/query.hpp"
#include "dnsd/zone/rdata.hpp"
#include "dnsd/zone/source.hpp"
#include "packet.hpp"

// Counts this thread's heap allocations, so a test can show that the answer
// path makes none. Replacing the global allocation functions is the only way
// to see allocations made anywhere below respond(); every form is replaced so
// that allocation and release always pair (malloc/free), sanitizers included.
namespace {
thread_local size_t allocations = 0;

void* allocate(std::size_t size, std::size_t alignment, bool nothrow) {
    ++allocations;
    size = size == 0 ? 1 : size;
    void* p = alignment <= alignof(std::max_align_t)
                  ? std::malloc(size)
                  : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    if (p == nullptr && !nothrow) throw std::bad_alloc();
    return p;
}
constexpr std::size_t plain = alignof(std::max_align_t);
}  // namespace

void* operator new(std::size_t n) { return allocate(n, plain, false); }
void* operator new[](std::size_t n) { return allocate(n, plain, false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, plain, true); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, plain, true); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a), false); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a), false); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return allocate(n, static_cast<std::size_t>(a), true);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return allocate(n, static_cast<std::size_t>(a), true);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace dnsd;
using test::Bytes;
using test::wire_name;
namespace rrtype = zone::rrtype;

namespace {

core::Address ip(const char* text) { return *core::Address::parse(text); }

// A zone assembled record by record, with the SOA and the empty non-terminals
// the loader would add.
class ZoneBuilder {
public:
    explicit ZoneBuilder(std::string apex_text, uint32_t negative_ttl = 15) : zone_(std::make_shared<zone::Zone>()) {
        zone_->name = apex_text;
        zone_->apex = wire_name(apex_text);
        zone_->negative_ttl = negative_ttl;
        zone::rdata::Soa soa;
        soa.mname = wire_name("ns1." + apex_text);
        soa.rname = wire_name("hostmaster." + apex_text);
        soa.serial = 7;
        soa.refresh = 3600;
        soa.retry = 600;
        soa.expire = 86400;
        soa.minimum = negative_ttl;
        add("@", {rrtype::SOA, 3600, {zone::rdata::soa(soa)}});
    }

    // `name` relative to the apex ("@" is the apex).
    ZoneBuilder& add(const std::string& name, zone::RRset rrset) {
        zone::Node& n = node(name);
        const bool at_apex = n.name == zone_->apex;
        if (rrset.type == rrtype::NS && !at_apex) n.delegation = true;
        n.rrsets.push_back(std::move(rrset));
        std::sort(n.rrsets.begin(), n.rrsets.end(), [](const auto& a, const auto& b) { return a.type < b.type; });
        return *this;
    }
    ZoneBuilder& a(const std::string& name, std::vector<const char*> addresses, uint32_t ttl = 60) {
        zone::RRset v4{rrtype::A, ttl, {}}, v6{rrtype::AAAA, ttl, {}};
        for (const char* text : addresses) {
            const auto address = ip(text);
            (address.family == core::Family::v4 ? v4 : v6).rdatas.push_back(zone::rdata::address(address));
        }
        if (!v4.rdatas.empty()) add(name, v4);
        if (!v6.rdatas.empty()) add(name, v6);
        return *this;
    }
    ZoneBuilder& names(const std::string& name, uint16_t type, std::vector<std::string> targets, uint32_t ttl = 60) {
        zone::RRset set{type, ttl, {}};
        for (const auto& t : targets) set.rdatas.push_back(zone::rdata::name(wire_name(t)));
        return add(name, set);
    }
    ZoneBuilder& pool(const std::string& name, zone::Pool pool, uint32_t ttl) {
        zone::index_members(pool);
        zone_->max_pool_members = std::max(zone_->max_pool_members, pool.members.size());
        zone_->pools.push_back(std::move(pool));
        zone::Node& n = node(name);
        n.pool = static_cast<int32_t>(zone_->pools.size() - 1);
        n.pool_ttl = ttl;
        return *this;
    }
    std::shared_ptr<const zone::Zone> build() const {
        zone_->finish();
        return zone_;
    }

private:
    zone::Node& node(const std::string& name) {
        const std::string wire = name == "@" ? zone_->apex : wire_name(name + "." + zone_->name);
        for (std::string_view up = wire; up.size() >= zone_->apex.size(); up = up.substr(1 + static_cast<uint8_t>(up[0]))) {
            zone_->node_at(up);
            if (up.size() == zone_->apex.size()) break;
        }
        return zone_->node_at(wire);
    }
    std::shared_ptr<zone::Zone> zone_;
};

zone::Pool make_pool(std::vector<const char*> addresses, zone::Policy policy = zone::Policy::round_robin) {
    zone::Pool p;
    p.name = "p";
    p.policy = policy;
    p.ttl = 20;
    p.degraded_ttl = 5;
    for (const char* a : addresses) {
        zone::Member m;
        m.address = ip(a);
        m.health_slot = static_cast<uint32_t>(p.members.size());
        p.members.push_back(m);
    }
    return p;
}

// demo.example with every kind of data, and other.example for chains.
answer::View demo_view() {
    ZoneBuilder demo("demo.example");
    demo.names("@", rrtype::NS, {"ns1.demo.example", "ns.elsewhere.net"}, 3600)
        .a("ns1", {"192.0.2.53", "2001:db8::53"})
        .a("rr", {"192.0.2.1", "192.0.2.2", "192.0.2.3"}, 20)
        .a("deep.ent.x", {"192.0.2.9"})
        .names("api", rrtype::CNAME, {"www.demo.example"})
        .names("out", rrtype::CNAME, {"www.other.example"})
        .names("gone", rrtype::CNAME, {"nothing.other.example"})
        .names("away", rrtype::CNAME, {"target.unserved.net"})
        .names("loop1", rrtype::CNAME, {"loop2.demo.example"})
        .names("loop2", rrtype::CNAME, {"loop1.demo.example"})
        .names("*.wild", rrtype::CNAME, {"rr.demo.example"})
        .a("*.star", {"192.0.2.77"})
        .a("exists.star", {"192.0.2.78"})
        .a("deep.ent.star2", {"192.0.2.79"})
        .a("*.star2", {"192.0.2.80"})
        .names("sub", rrtype::NS, {"ns.sub.demo.example", "ns.other.example"}, 3600)
        .a("ns.sub", {"192.0.2.100"})
        .names("ptr", rrtype::PTR, {"rr.demo.example"});
    demo.add("@", {rrtype::MX, 300, {zone::rdata::mx(10, wire_name("mx.demo.example")),
                                      zone::rdata::mx(20, wire_name("www.demo.example")),
                                      zone::rdata::mx(30, wire_name("mx.other.example"))}});
    demo.a("mx", {"192.0.2.25"});
    demo.add("_http._tcp", {rrtype::SRV, 60, {zone::rdata::srv(10, 5, 80, wire_name("rr.demo.example"))}});
    demo.add("note", {rrtype::TXT, 60, {zone::rdata::txt({"hello"})}});
    demo.pool("www", make_pool({"198.51.100.1", "198.51.100.2", "2001:db8::1"}), 20);
    demo.pool("v6only", make_pool({"2001:db8::6"}), 20);
    demo.pool("*.cdn", make_pool({"198.51.100.9"}), 10);
    demo.pool("sticky", make_pool({"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "2001:db8::7"},
                                  zone::Policy::sticky),
              20);
    // Wide pools, which answer from their region tiers: the worker's sticky
    // rankings and weighted draws.
    for (const auto policy : {zone::Policy::sticky, zone::Policy::weighted}) {
        std::vector<std::string> addresses;
        for (int i = 1; i <= 100; ++i) addresses.push_back("10.7.0." + std::to_string(i));
        std::vector<const char*> pointers;
        for (const auto& address : addresses) pointers.push_back(address.c_str());
        zone::Pool wide = make_pool(pointers, policy);
        wide.max_answers = 4;
        demo.pool(policy == zone::Policy::sticky ? "widesticky" : "wideweighted", std::move(wide), 20);
    }
    // Chains of 9 and 8 links: c0 → c1 → … → end.
    for (int i = 0; i < 9; ++i)
        demo.names("c" + std::to_string(i), rrtype::CNAME, {"c" + std::to_string(i + 1) + ".demo.example"});
    demo.a("c9", {"192.0.2.99"});

    ZoneBuilder other("other.example");
    other.names("@", rrtype::NS, {"ns1.demo.example"}).a("www", {"203.0.113.80"}).a("mx", {"203.0.113.25"});

    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{demo.build(), other.build()});
    answer::View view;
    view.snapshot = snapshot;
    view.options.udp_payload = 1232;
    return view;
}

struct Client {
    answer::View view = demo_view();
    answer::WorkerState state;
    std::vector<uint8_t> out = std::vector<uint8_t>(65535);
    answer::Outcome outcome;
    uint32_t now_s = 0;  // the queries' time; 0: none

    Client() { state.prepare(view); }

    test::Decoded ask(const std::vector<uint8_t>& packet, answer::Transport transport = answer::Transport::udp,
                      const char* source = "192.0.2.250") {
        answer::Request request{packet, ip(source), transport, now_s};
        outcome = answer::respond(request, view, state, out);
        return test::decode({out.data(), outcome.size});
    }
    test::Decoded ask(const test::QuerySpec& spec, answer::Transport transport = answer::Transport::udp,
                      const char* source = "192.0.2.250") {
        return ask(test::build_query(spec), transport, source);
    }
    test::Decoded ask(const std::string& name, uint16_t type) {
        test::QuerySpec spec;
        spec.name = name;
        spec.type = type;
        return ask(spec);
    }
};

using Lines = std::vector<std::string>;

guard::RrlSettings rrl_settings(uint32_t rate, uint32_t slip) {
    guard::RrlSettings settings;
    settings.responses_per_second = rate;
    settings.slip = slip;
    return settings;
}

// A query with no question and an OPT with a COOKIE of `cookie`'s octets.
std::vector<uint8_t> cookie_only_query(const std::vector<uint8_t>& cookie) {
    Bytes b;
    b.header(0x0a0b, 0, 0, 0, 0, 1).u8(0).u16(41).u16(1232).u32(0);
    b.u16(static_cast<uint16_t>(4 + cookie.size())).u16(10).u16(static_cast<uint16_t>(cookie.size())).raw(cookie);
    return b.data;
}

}  // namespace

TEST_CASE("respond drops packets too short for a header and responses", "[respond]") {
    Client c;
    c.ask(std::vector<uint8_t>{0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0});
    CHECK(c.outcome.size == 0);
    Bytes response;
    response.header(1, 0x8000, 1, 0, 0, 0).name("www.demo.example").u16(1).u16(1);
    c.ask(response.data);
    CHECK(c.outcome.size == 0);
}

TEST_CASE("respond: NOTIMP, FORMERR and REFUSED", "[respond]") {
    Client c;
    SECTION("opcode other than QUERY") {
        test::QuerySpec spec;
        spec.name = "www.demo.example";
        spec.opcode = 4;  // NOTIFY
        auto d = c.ask(spec);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode NOTIMP flags qr rd"});
        CHECK(d.opcode == 4);
        CHECK(d.id == 0xbeef);
    }
    SECTION("opcode other than QUERY, with an OPT: the OPT comes back (RFC 6891 §7)") {
        test::QuerySpec spec;
        spec.name = "www.demo.example";
        spec.opcode = 4;
        spec.edns = true;
        spec.dnssec_ok = true;
        auto d = c.ask(spec);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode NOTIMP flags qr rd", "edns version=0 udp=1232 do"});
    }
    SECTION("two questions") {
        Bytes b;
        b.header(0x0102, 0x0100, 2, 0, 0, 0).name("a.demo.example").u16(1).u16(1).name("b.demo.example").u16(1).u16(1);
        auto d = c.ask(b.data);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode FORMERR flags qr rd"});
        CHECK(d.id == 0x0102);
    }
    SECTION("two questions or none, with an OPT: the OPT comes back") {
        Bytes two;
        two.header(0x0102, 0x0100, 2, 0, 0, 1).name("a.demo.example").u16(1).u16(1).name("b.demo.example").u16(1).u16(1);
        two.u8(0).u16(41).u16(4096).u32(0).u16(0);
        auto d = c.ask(two.data);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode FORMERR flags qr rd", "edns version=0 udp=1232"});
        Bytes none;
        none.header(0x0103, 0x0100, 0, 0, 0, 1).u8(0).u16(41).u16(4096).u32(0x8000).u16(0);
        d = c.ask(none.data);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode FORMERR flags qr rd", "edns version=0 udp=1232 do"});
    }
    SECTION("malformed question keeps no question but an OPT for an EDNS query") {
        Bytes b;
        b.header(0x0102, 0, 1, 0, 0, 1).name("www.demo.example").u16(1).u16(1);
        b.u8(0).u16(41).u16(1232).u32(0).u16(0);
        b.u8(0).u16(41).u16(1232).u32(0).u16(0);  // second OPT, not counted: trailing bytes
        auto d = c.ask(b.data);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode FORMERR flags qr", "question www.demo.example. A", "edns version=0 udp=1232"});
    }
    SECTION("two OPT records") {
        Bytes b;
        b.header(0x0102, 0, 1, 0, 0, 2).name("www.demo.example").u16(1).u16(1);
        b.u8(0).u16(41).u16(1232).u32(0).u16(0);
        b.u8(0).u16(41).u16(1232).u32(0).u16(0);
        auto d = c.ask(b.data);
        REQUIRE(d.ok);
        CHECK(d.rcode == wire::rcode::formerr);
    }
    SECTION("invalid ECS") {
        Bytes b;
        b.header(0x0102, 0, 1, 0, 0, 1).name("www.demo.example").u16(1).u16(1);
        b.u8(0).u16(41).u16(1232).u32(0).u16(8).u16(8).u16(4).u16(1).u8(8).u8(0);  // /8 without its octet
        auto d = c.ask(b.data);
        REQUIRE(d.ok);
        CHECK(d.lines == Lines{"rcode FORMERR flags qr", "question www.demo.example. A", "edns version=0 udp=1232"});
    }
    SECTION("class other than IN") {
        test::QuerySpec spec;
        spec.name = "www.demo.example";
        spec.qclass = 3;
        auto d = c.ask(spec);
        CHECK(d.lines == Lines{"rcode REFUSED flags qr rd", "question www.demo.example. CLASS3 A"});
    }
    SECTION("zone transfers") {
        CHECK(c.ask("demo.example", rrtype::AXFR).rcode == wire::rcode::refused);
        CHECK(c.ask("demo.example", rrtype::IXFR).rcode == wire::rcode::refused);
    }
    SECTION("outside every zone") {
        auto d = c.ask("www.example.com", rrtype::A);
        CHECK(d.lines == Lines{"rcode REFUSED flags qr rd", "question www.example.com. A"});
        CHECK(c.ask("example", rrtype::A).rcode == wire::rcode::refused);  // a parent of a zone
    }
}

TEST_CASE("respond echoes ID, opcode, RD and the question's case, QR and AA set, RA clear", "[respond]") {
    Client c;
    test::QuerySpec spec;
    spec.name = "RR.Demo.EXAMPLE";
    spec.id = 0x4242;
    spec.rd = false;
    auto d = c.ask(spec);
    REQUIRE(d.ok);
    CHECK(d.id == 0x4242);
    CHECK(d.lines == Lines{"rcode NOERROR flags qr aa", "question RR.Demo.EXAMPLE. A",
                           "answer RR.Demo.EXAMPLE. 20 A 192.0.2.1", "answer RR.Demo.EXAMPLE. 20 A 192.0.2.2",
                           "answer RR.Demo.EXAMPLE. 20 A 192.0.2.3"});
    // The answer's owner is a pointer to the question (offset 12).
    const size_t answer_at = 12 + 17 + 4;
    CHECK(c.out[answer_at] == 0xc0);
    CHECK(c.out[answer_at + 1] == 12);
    CHECK(c.outcome.qtype == rrtype::A);
    CHECK(c.outcome.rcode == 0);
}

TEST_CASE("respond: NXDOMAIN and NODATA carry the SOA with the negative TTL", "[respond]") {
    Client c;
    const std::string soa = "authority demo.example. 15 SOA ns1.demo.example. hostmaster.demo.example. 7 3600 600 86400 15";
    auto nx = c.ask("nope.demo.example", rrtype::A);
    CHECK(nx.lines == Lines{"rcode NXDOMAIN flags qr aa rd", "question nope.demo.example. A", soa});
    auto nodata = c.ask("note.demo.example", rrtype::A);
    CHECK(nodata.lines == Lines{"rcode NOERROR flags qr aa rd", "question note.demo.example. A", soa});
    auto ent = c.ask("ent.x.demo.example", rrtype::A);
    CHECK(ent.lines == Lines{"rcode NOERROR flags qr aa rd", "question ent.x.demo.example. A", soa});
    auto below_ent = c.ask("nope.ent.x.demo.example", rrtype::A);
    CHECK(below_ent.rcode == wire::rcode::nxdomain);
    auto pool_family = c.ask("v6only.demo.example", rrtype::A);
    CHECK(pool_family.lines == Lines{"rcode NOERROR flags qr aa rd", "question v6only.demo.example. A", soa});
    CHECK(c.outcome.rcode == 0);
}

TEST_CASE("respond follows CNAMEs through served zones", "[respond]") {
    Client c;
    SECTION("within the zone, into a pool") {
        auto d = c.ask("api.demo.example", rrtype::A);
        CHECK(d.lines == Lines{"rcode NOERROR flags qr aa rd", "question api.demo.example. A",
                               "answer api.demo.example. 60 CNAME www.demo.example.",
                               "answer www.demo.example. 20 A 198.51.100.1", "answer www.demo.example. 20 A 198.51.100.2"});
    }
    SECTION("into another served zone") {
        auto d = c.ask("out.demo.example", rrtype::A);
        CHECK(d.answer == Lines{"out.demo.example. 60 CNAME www.other.example.", "www.other.example. 60 A 203.0.113.80"});
        CHECK(d.aa);
    }
    SECTION("to a missing name in another zone: NXDOMAIN with that zone's SOA") {
        auto d = c.ask("gone.demo.example", rrtype::A);
        CHECK(d.rcode == wire::rcode::nxdomain);
        CHECK(d.lines.back().starts_with("authority other.example. 15 SOA"));
    }
    SECTION("out of the served zones: the CNAME alone") {
        auto d = c.ask("away.demo.example", rrtype::A);
        CHECK(d.lines == Lines{"rcode NOERROR flags qr aa rd", "question away.demo.example. A",
                               "answer away.demo.example. 60 CNAME target.unserved.net."});
    }
    SECTION("a CNAME query gets the CNAME itself") {
        auto d = c.ask("api.demo.example", rrtype::CNAME);
        CHECK(d.answer == Lines{"api.demo.example. 60 CNAME www.demo.example."});
    }
    SECTION("a loop stops once every link is in") {
        auto d = c.ask("loop1.demo.example", rrtype::A);
        CHECK(d.rcode == wire::rcode::noerror);
        CHECK(d.answer == Lines{"loop1.demo.example. 60 CNAME loop2.demo.example.",
                                "loop2.demo.example. 60 CNAME loop1.demo.example."});
    }
    SECTION("at most 8 links") {
        auto eight = c.ask("c1.demo.example", rrtype::A);  // c1 … c8 → c9's A
        REQUIRE(eight.answer.size() == 9);
        CHECK(eight.answer.back() == "c9.demo.example. 60 A 192.0.2.99");
        auto nine = c.ask("c0.demo.example", rrtype::A);  // nine links: stops after eight
        REQUIRE(nine.answer.size() == 8);
        CHECK(nine.answer.back() == "c7.demo.example. 60 CNAME c8.demo.example.");
    }
}

TEST_CASE("respond synthesises wildcard answers per RFC 4592", "[respond]") {
    Client c;
    auto one = c.ask("Any.Star.demo.example", rrtype::A);
    CHECK(one.answer == Lines{"Any.Star.demo.example. 60 A 192.0.2.77"});
    CHECK(one.aa);
    CHECK(c.ask("a.b.star.demo.example", rrtype::A).answer == Lines{"a.b.star.demo.example. 60 A 192.0.2.77"});
    CHECK(c.ask("exists.star.demo.example", rrtype::A).answer == Lines{"exists.star.demo.example. 60 A 192.0.2.78"});
    // The closest encloser of q.exists.star is exists.star, which has no wildcard.
    CHECK(c.ask("q.exists.star.demo.example", rrtype::A).rcode == wire::rcode::nxdomain);
    // An existing empty non-terminal is not synthesised (RFC 4592 §2.2.2).
    CHECK(c.ask("x.star2.demo.example", rrtype::A).answer == Lines{"x.star2.demo.example. 60 A 192.0.2.80"});
    auto ent = c.ask("ent.star2.demo.example", rrtype::A);
    CHECK(ent.rcode == wire::rcode::noerror);
    CHECK(ent.answer.empty());
    CHECK(c.ask("deep.ent.star2.demo.example", rrtype::A).answer ==
          Lines{"deep.ent.star2.demo.example. 60 A 192.0.2.79"});
    // A wildcard without the type: NODATA.
    auto nodata = c.ask("x.star.demo.example", rrtype::TXT);
    CHECK(nodata.rcode == wire::rcode::noerror);
    CHECK(nodata.answer.empty());
    CHECK(nodata.lines.back().starts_with("authority demo.example. 15 SOA"));
    // A wildcard CNAME and a wildcard pool.
    CHECK(c.ask("x.wild.demo.example", rrtype::A).answer.front() == "x.wild.demo.example. 60 CNAME rr.demo.example.");
    CHECK(c.ask("img.cdn.demo.example", rrtype::A).answer == Lines{"img.cdn.demo.example. 10 A 198.51.100.9"});
}

TEST_CASE("respond refers below a zone cut, with glue, and answers DS at the cut", "[respond]") {
    Client c;
    const Lines referral{"rcode NOERROR flags qr rd", "question host.sub.demo.example. A",
                         "authority sub.demo.example. 3600 NS ns.sub.demo.example.",
                         "authority sub.demo.example. 3600 NS ns.other.example.",
                         "additional ns.sub.demo.example. 60 A 192.0.2.100"};
    CHECK(c.ask("host.sub.demo.example", rrtype::A).lines == referral);
    auto at_cut = c.ask("sub.demo.example", rrtype::NS);
    CHECK_FALSE(at_cut.aa);
    CHECK(at_cut.answer.empty());
    // Glue is never answered authoritatively.
    auto glue = c.ask("ns.sub.demo.example", rrtype::A);
    CHECK_FALSE(glue.aa);
    CHECK(glue.answer.empty());
    auto ds = c.ask("sub.demo.example", rrtype::DS);
    CHECK(ds.aa);
    CHECK(ds.rcode == wire::rcode::noerror);
    CHECK(ds.answer.empty());
    CHECK(ds.lines.back().starts_with("authority demo.example. 15 SOA"));
    // DS below the cut is still the child's business.
    CHECK_FALSE(c.ask("host.sub.demo.example", rrtype::DS).aa);
}

TEST_CASE("respond answers DS at a served child's apex from the served parent", "[respond]") {
    Client c;
    ZoneBuilder child("sub.demo.example");
    child.names("@", rrtype::NS, {"ns.sub.demo.example"}).a("host", {"192.0.2.200"});
    auto zones = c.view.snapshot->zones;
    zones.push_back(child.build());
    auto snapshot = std::make_shared<zone::Snapshot>(std::move(zones));
    c.view.snapshot = snapshot;
    auto host = c.ask("host.sub.demo.example", rrtype::A);
    CHECK(host.aa);
    CHECK(host.answer == Lines{"host.sub.demo.example. 60 A 192.0.2.200"});
    auto ds = c.ask("sub.demo.example", rrtype::DS);
    CHECK(ds.lines.back().starts_with("authority demo.example. 15 SOA"));
    auto soa = c.ask("sub.demo.example", rrtype::SOA);
    CHECK(soa.answer.front().starts_with("sub.demo.example. 3600 SOA"));
}

TEST_CASE("respond keeps responses minimal, with addresses for NS, MX and SRV targets", "[respond]") {
    Client c;
    SECTION("apex NS: in-zone targets' addresses") {
        auto d = c.ask("demo.example", rrtype::NS);
        CHECK(d.lines == Lines{"rcode NOERROR flags qr aa rd", "question demo.example. NS",
                               "answer demo.example. 3600 NS ns1.demo.example.",
                               "answer demo.example. 3600 NS ns.elsewhere.net.",
                               "additional ns1.demo.example. 60 A 192.0.2.53",
                               "additional ns1.demo.example. 60 AAAA 2001:db8::53"});
    }
    SECTION("MX: static and pool targets, nothing out of zone") {
        auto d = c.ask("demo.example", rrtype::MX);
        CHECK(d.lines == Lines{"rcode NOERROR flags qr aa rd", "question demo.example. MX",
                               "answer demo.example. 300 MX 10 mx.demo.example.",
                               "answer demo.example. 300 MX 20 www.demo.example.",
                               "answer demo.example. 300 MX 30 mx.other.example.",
                               "additional mx.demo.example. 60 A 192.0.2.25",
                               "additional www.demo.example. 20 A 198.51.100.1",
                               "additional www.demo.example. 20 A 198.51.100.2",
                               "additional www.demo.example. 20 AAAA 2001:db8::1"});
    }
    SECTION("SRV") {
        auto d = c.ask("_http._tcp.demo.example", rrtype::SRV);
        CHECK(d.lines.size() == 6);
        CHECK(d.lines[2] == "answer _http._tcp.demo.example. 60 SRV 10 5 80 rr.demo.example.");
        CHECK(d.lines[3] == "additional rr.demo.example. 20 A 192.0.2.1");
    }
    SECTION("other answers: no authority, no additional") {
        auto d = c.ask("ptr.demo.example", rrtype::PTR);
        CHECK(d.lines == Lines{"rcode NOERROR flags qr aa rd", "question ptr.demo.example. PTR",
                               "answer ptr.demo.example. 60 PTR rr.demo.example."});
    }
}

TEST_CASE("respond answers ANY with one RRset (RFC 8482)", "[respond]") {
    Client c;
    CHECK(c.ask("note.demo.example", rrtype::ANY).answer == Lines{"note.demo.example. 60 TXT \"hello\""});
    auto apex = c.ask("demo.example", rrtype::ANY);
    REQUIRE(apex.answer.size() == 2);
    CHECK(apex.answer[0].starts_with("demo.example. 3600 NS"));
    CHECK(c.ask("www.demo.example", rrtype::ANY).answer ==
          Lines{"www.demo.example. 20 A 198.51.100.1", "www.demo.example. 20 A 198.51.100.2"});
    CHECK(c.ask("v6only.demo.example", rrtype::ANY).answer == Lines{"v6only.demo.example. 20 AAAA 2001:db8::6"});
    CHECK(c.ask("api.demo.example", rrtype::ANY).answer == Lines{"api.demo.example. 60 CNAME www.demo.example."});
    auto ent = c.ask("x.demo.example", rrtype::ANY);
    CHECK(ent.rcode == wire::rcode::noerror);
    CHECK(ent.answer.empty());
}

TEST_CASE("respond rotates pools and static RRsets by one per query", "[respond]") {
    Client c;
    std::multiset<std::string> rr_first, pool_first;
    for (int i = 0; i < 3; ++i) rr_first.insert(c.ask("rr.demo.example", rrtype::A).answer.at(0));
    CHECK(rr_first == std::multiset<std::string>{"rr.demo.example. 20 A 192.0.2.1", "rr.demo.example. 20 A 192.0.2.2",
                                                  "rr.demo.example. 20 A 192.0.2.3"});
    for (int i = 0; i < 2; ++i) pool_first.insert(c.ask("www.demo.example", rrtype::A).answer.at(0));
    CHECK(pool_first == std::multiset<std::string>{"www.demo.example. 20 A 198.51.100.1",
                                                    "www.demo.example. 20 A 198.51.100.2"});
    c.state.rotation_offset = 1;
    CHECK(c.ask("rr.demo.example", rrtype::A).answer ==
          Lines{"rr.demo.example. 20 A 192.0.2.2", "rr.demo.example. 20 A 192.0.2.3", "rr.demo.example. 20 A 192.0.2.1"});
}

TEST_CASE("respond rotates each set on its own, whatever is asked in between", "[respond]") {
    // Resolvers ask A and AAAA together: a pool of two must still alternate,
    // and a static RRset of three must rotate with two other queries between.
    Client c;
    std::vector<std::string> pool_first, rr_first;
    for (int i = 0; i < 4; ++i) {
        pool_first.push_back(c.ask("www.demo.example", rrtype::A).answer.at(0));
        c.ask("www.demo.example", rrtype::AAAA);
    }
    CHECK(pool_first == std::vector<std::string>{"www.demo.example. 20 A 198.51.100.1", "www.demo.example. 20 A 198.51.100.2",
                                                 "www.demo.example. 20 A 198.51.100.1", "www.demo.example. 20 A 198.51.100.2"});
    for (int i = 0; i < 3; ++i) {
        rr_first.push_back(c.ask("rr.demo.example", rrtype::A).answer.at(0));
        c.ask("www.demo.example", rrtype::A);
        c.ask("note.demo.example", rrtype::TXT);
    }
    CHECK(rr_first == std::vector<std::string>{"rr.demo.example. 20 A 192.0.2.1", "rr.demo.example. 20 A 192.0.2.2",
                                               "rr.demo.example. 20 A 192.0.2.3"});
}

TEST_CASE("respond uses the degraded TTL when select() fails open", "[respond]") {
    Client c;
    auto health = std::make_shared<health::HealthView>();
    for (const auto& zone : c.view.snapshot->zones) {
        health::ZoneHealth down;
        down.up.assign(8, 0);  // every probed member down
        health->add(zone, down);
    }
    c.view.health = health;
    CHECK(c.ask("www.demo.example", rrtype::A).answer ==
          Lines{"www.demo.example. 5 A 198.51.100.1", "www.demo.example. 5 A 198.51.100.2"});
}

namespace {

// The demo zone's health with a slot for each member of www (pool 0), every
// probed member up or down.
std::shared_ptr<const health::HealthView> handout_health(const answer::View& view, bool up,
                                                         std::shared_ptr<health::HandoutSlots>& slots) {
    auto handouts = std::make_shared<health::Handouts>();
    const auto& demo = view.snapshot->zones[0];
    slots = std::make_shared<health::HandoutSlots>();
    slots->owner = handouts;
    slots->slots.resize(1);
    for (const auto& member : demo->pools[0].members)
        slots->slots[0].push_back(&handouts->slot(demo->name, "www", member.address));
    auto health = std::make_shared<health::HealthView>();
    health::ZoneHealth zone_health;
    zone_health.up.assign(8, up ? 1 : 0);
    zone_health.handouts = slots;
    health->add(demo, zone_health);
    return health;
}

}  // namespace

TEST_CASE("respond records until when each member it hands out may be cached, degraded TTLs included", "[respond][drain]") {
    Client c;
    std::shared_ptr<health::HandoutSlots> slots;
    auto expiry = [&](size_t m) { return slots->slots[0][m]->load(); };
    SECTION("the name's TTL, for the members answered and none other") {
        c.view.health = handout_health(c.view, true, slots);
        c.now_s = 1'000'000;
        c.ask("www.demo.example", rrtype::A);
        CHECK(expiry(0) == 1'000'000 + 20 + 1);
        CHECK(expiry(1) == 1'000'000 + 20 + 1);
        CHECK(expiry(2) == 0);  // the IPv6 member was not asked for
        // An earlier answer never lowers it; a later one raises it.
        c.now_s = 999'000;
        c.ask("www.demo.example", rrtype::A);
        CHECK(expiry(0) == 1'000'000 + 21);
        c.now_s = 1'000'100;
        c.ask("www.demo.example", rrtype::AAAA);
        CHECK(expiry(2) == 1'000'100 + 21);
        CHECK(expiry(0) == 1'000'000 + 21);
    }
    SECTION("the degraded TTL when the pool fails open") {
        c.view.health = handout_health(c.view, false, slots);
        c.now_s = 1'000'000;
        CHECK(c.ask("www.demo.example", rrtype::A).answer.size() == 2);
        CHECK(expiry(0) == 1'000'000 + 5 + 1);
    }
    SECTION("nothing without the query's time (explain)") {
        c.view.health = handout_health(c.view, true, slots);
        c.ask("www.demo.example", rrtype::A);
        CHECK(expiry(0) == 0);
    }
    SECTION("without allocating") {
        c.view.health = handout_health(c.view, true, slots);
        c.now_s = 1'000'000;
        const auto packet = test::build_query([] {
            test::QuerySpec spec;
            spec.name = "www.demo.example";
            return spec;
        }());
        std::array<uint8_t, 65535> out{};
        const size_t before = allocations;
        answer::respond({packet, ip("192.0.2.1"), answer::Transport::udp, c.now_s}, c.view, c.state, out);
        CHECK(allocations == before);
        CHECK(expiry(0) == 1'000'000 + 21);
    }
}

TEST_CASE("respond answers SERVFAIL rather than overrun scratch not sized by prepare", "[respond]") {
    Client c;
    c.state.members.clear();
    c.state.scratch.clear();
    auto d = c.ask("www.demo.example", rrtype::A);
    CHECK(d.lines == Lines{"rcode SERVFAIL flags qr rd", "question www.demo.example. A"});
    c.state.prepare(c.view);
    CHECK(c.state.members.size() == 100);  // the wide pools'
    CHECK(c.state.scratch.size() == 100);
    CHECK(c.ask("rr.demo.example", rrtype::A).rcode == wire::rcode::noerror);
}

TEST_CASE("respond speaks EDNS(0): payload, BADVERS, NSID", "[respond]") {
    Client c;
    c.view.options.udp_payload = 1400;
    test::QuerySpec spec;
    spec.name = "note.demo.example";
    spec.type = rrtype::TXT;
    spec.edns = true;
    spec.udp_size = 4096;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1400");

    SECTION("DO is copied (RFC 3225 §3), though dnsd does not sign") {
        spec.dnssec_ok = true;
        CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1400 do");
        spec.edns_version = 1;
        CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1400 do");  // BADVERS too
    }
    SECTION("version 1") {
        spec.edns_version = 1;
        auto d = c.ask(spec);
        CHECK(d.lines == Lines{"rcode BADVERS flags qr rd", "question note.demo.example. TXT", "edns version=0 udp=1400"});
        CHECK(c.outcome.rcode == 16);
    }
    SECTION("NSID when configured and asked for") {
        spec.nsid = true;
        CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1400");  // not configured
        c.view.options.nsid = "dnsd-1";
        CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1400 nsid=\"dnsd-1\"");
        spec.nsid = false;
        CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1400");  // not asked for
    }
    SECTION("no OPT without EDNS in the query") {
        spec.edns = false;
        CHECK(c.ask(spec).lines.back() == "answer note.demo.example. 60 TXT \"hello\"");
    }
}

TEST_CASE("respond echoes ECS with a truthful scope", "[respond]") {
    Client c;
    test::QuerySpec spec;
    spec.name = "www.demo.example";
    spec.ecs_address = ip("198.51.100.0");
    spec.ecs_prefix = 24;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=198.51.100.0/24/0");
    spec.ecs_address = ip("2001:db8:1::");
    spec.ecs_prefix = 48;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=2001:db8:1::/48/0");

    spec.name = "sticky.demo.example";
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=2001:db8:1::/48/48");
    spec.ecs_address = ip("2001:db8:1:200::");
    spec.ecs_prefix = 64;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=2001:db8:1:200::/64/56");
    spec.ecs_address = ip("10.9.8.0");
    spec.ecs_prefix = 24;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=10.9.8.0/24/24");
    spec.ecs_address = ip("10.9.8.128");
    spec.ecs_prefix = 25;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=10.9.8.128/25/24");
    spec.ecs_address = ip("10.9.0.0");
    spec.ecs_prefix = 16;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 ecs=10.9.0.0/16/16");
}

TEST_CASE("respond: sticky follows the ECS address when ecs is on, else the source", "[respond]") {
    Client c;
    auto first = [&](const char* source, const char* ecs) {
        test::QuerySpec spec;
        spec.name = "sticky.demo.example";
        if (ecs) {
            spec.ecs_address = ip(ecs);
            spec.ecs_prefix = 24;
        }
        return c.ask(spec, answer::Transport::udp, source).answer.at(0);
    };
    // Two client networks that sticky sends to different members.
    const char* networks[] = {"10.0.1.0", "10.0.2.0", "10.0.3.0", "10.0.4.0", "10.0.5.0", "10.0.6.0", "10.0.7.0"};
    const char* a = networks[0];
    const char* b = nullptr;
    for (const char* n : networks)
        if (first(n, nullptr) != first(a, nullptr)) b = n;
    REQUIRE(b != nullptr);
    CHECK(first(a, b) == first(b, nullptr));
    // Source prefix 0: the resolver declines to name a subnet; the source decides.
    test::QuerySpec zero;
    zero.name = "sticky.demo.example";
    zero.ecs_address = ip("0.0.0.0");
    zero.ecs_prefix = 0;
    CHECK(c.ask(zero, answer::Transport::udp, a).answer.at(0) == first(a, nullptr));
    CHECK(c.ask(zero, answer::Transport::udp, b).answer.at(0) == first(b, nullptr));
    c.view.options.ecs = false;
    CHECK(first(a, b) == first(a, nullptr));
}

TEST_CASE("respond truncates what does not fit the transport", "[respond]") {
    Client c;
    // 40 TXT records of 100 octets: ~4.5 KB.
    ZoneBuilder big("big.example");
    big.names("@", rrtype::NS, {"ns1.big.example"});
    zone::RRset txt{rrtype::TXT, 60, {}};
    for (int i = 0; i < 40; ++i) txt.rdatas.push_back(zone::rdata::txt({std::string(99, static_cast<char>('a' + i % 26))}));
    big.add("txt", txt);
    zone::RRset medium{rrtype::TXT, 60, {}};
    for (int i = 0; i < 8; ++i) medium.rdatas.push_back(zone::rdata::txt({std::string(99, 'm')}));
    big.add("medium", medium);  // ~ 8 * 112 = 900 octets
    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{big.build()});
    c.view.snapshot = snapshot;
    c.view.options.udp_payload = 1232;

    test::QuerySpec spec;
    spec.name = "txt.big.example";
    spec.type = rrtype::TXT;
    SECTION("UDP without EDNS: 512") {
        auto d = c.ask(spec);
        CHECK(d.lines == Lines{"rcode NOERROR flags qr aa tc rd", "question txt.big.example. TXT"});
        CHECK(c.outcome.truncated);
        spec.name = "medium.big.example";
        CHECK(c.ask(spec).tc);
    }
    SECTION("UDP with EDNS: the client's size up to ours, OPT kept") {
        spec.name = "medium.big.example";
        spec.udp_size = 4096;
        spec.edns = true;
        auto fits = c.ask(spec);
        CHECK_FALSE(fits.tc);
        CHECK(fits.answer.size() == 8);
        CHECK(c.outcome.size > 512);
        CHECK(c.outcome.size <= 1232);
        spec.udp_size = 100;  // counts as 512
        auto small = c.ask(spec);
        CHECK(small.lines == Lines{"rcode NOERROR flags qr aa tc rd", "question medium.big.example. TXT",
                                   "edns version=0 udp=1232"});
        spec.name = "txt.big.example";
        spec.udp_size = 4096;
        CHECK(c.ask(spec).tc);  // over our 1232
        c.view.options.udp_payload = 300;  // never below 512
        spec.name = "medium.big.example";
        spec.udp_size = 700;
        CHECK(c.ask(spec).tc);
        spec.udp_size = 4096;
        c.view.options.udp_payload = 4096;
        CHECK_FALSE(c.ask(spec).tc);
    }
    SECTION("TCP: the whole answer") {
        auto d = c.ask(spec, answer::Transport::tcp);
        CHECK_FALSE(d.tc);
        CHECK(d.answer.size() == 40);
        CHECK(c.outcome.size > 4000);
        CHECK_FALSE(c.outcome.truncated);
    }
}

TEST_CASE("respond leaves out additional records that do not fit, without TC", "[respond]") {
    Client c;
    ZoneBuilder big("big.example");
    zone::RRset mx{rrtype::MX, 60, {}};
    for (int i = 0; i < 6; ++i) {
        const std::string host = "mail-server-number-" + std::to_string(i);
        mx.rdatas.push_back(zone::rdata::mx(10, wire_name(host + ".big.example")));
        big.a(host, {"192.0.2.1", "192.0.2.2", "192.0.2.3"});
    }
    big.add("@", mx);
    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{big.build()});
    c.view.snapshot = snapshot;
    auto d = c.ask("big.example", rrtype::MX);
    REQUIRE(d.ok);
    CHECK_FALSE(d.tc);
    CHECK(d.answer.size() == 6);
    CHECK(c.outcome.size <= 512);
    // Whole RRsets only: a multiple of three A records, and not all of them.
    const size_t additional = d.lines.size() - 2 - 6;
    CHECK(additional > 0);
    CHECK(additional < 18);
    CHECK(additional % 3 == 0);
}

TEST_CASE("respond: a wide sticky pool answers one client network alike from its ranking", "[respond]") {
    Client c;
    const Lines first = c.ask("widesticky.demo.example", rrtype::A).answer;
    CHECK(first.size() == 4);
    for (int i = 0; i < 5; ++i) CHECK(c.ask("widesticky.demo.example", rrtype::A).answer == first);
    CHECK(c.ask("wideweighted.demo.example", rrtype::A).answer.size() == 4);
}

TEST_CASE("respond allocates nothing, whatever the query", "[respond]") {
    Client c;
    c.view.options.nsid = "ns";
    // Cookies and RRL on, with a limit the packets below go over.
    const guard::CookieSecrets secrets{*guard::parse_secret("00112233445566778899aabbccddeeff"), std::nullopt};
    guard::Rrl rrl(rrl_settings(2, 2), 1);
    c.state.cookies = &secrets;
    c.state.rrl = &rrl;
    std::vector<std::vector<uint8_t>> packets;
    auto add = [&](const char* name, uint16_t type, bool edns = false) {
        test::QuerySpec spec;
        spec.name = name;
        spec.type = type;
        spec.edns = edns;
        spec.nsid = edns;
        if (edns) {
            spec.ecs_address = ip("10.1.2.0");
            spec.ecs_prefix = 24;
            spec.cookie = {1, 2, 3, 4, 5, 6, 7, 8};
        }
        packets.push_back(test::build_query(spec));
    };
    for (bool edns : {false, true}) {
        add("www.demo.example", rrtype::A, edns);
        add("sticky.demo.example", rrtype::A, edns);
        add("widesticky.demo.example", rrtype::A, edns);
        add("wideweighted.demo.example", rrtype::A, edns);
        add("rr.demo.example", rrtype::A, edns);
        add("c0.demo.example", rrtype::A, edns);
        add("loop1.demo.example", rrtype::A, edns);
        add("x.wild.demo.example", rrtype::A, edns);
        add("img.cdn.demo.example", rrtype::AAAA, edns);
        add("host.sub.demo.example", rrtype::A, edns);
        add("sub.demo.example", rrtype::DS, edns);
        add("demo.example", rrtype::MX, edns);
        add("demo.example", rrtype::ANY, edns);
        add("nope.demo.example", rrtype::A, edns);
        add("www.example.com", rrtype::A, edns);
    }
    packets.push_back(Bytes{}.header(1, 0, 2, 0, 0, 0).data);         // FORMERR
    packets.push_back(Bytes{}.header(1, 0x2800, 1, 0, 0, 0).data);    // NOTIMP
    packets.push_back(Bytes{}.raw({1, 2, 3}).data);                     // dropped
    packets.push_back(cookie_only_query({1, 2, 3, 4, 5, 6, 7, 8}));   // BADCOOKIE
    std::array<uint8_t, 65535> out{};
    const core::Address source = ip("192.0.2.1");
    const size_t before = allocations;
    for (const auto& packet : packets) {
        answer::respond({packet, source, answer::Transport::udp}, c.view, c.state, out);
        answer::respond({packet, source, answer::Transport::tcp}, c.view, c.state, out);
    }
    CHECK(allocations == before);
    // The counter does see allocations: a guard against a hook that is not installed.
    auto probe = std::make_unique<int>(1);
    CHECK(allocations == before + 1);
    CHECK(*probe == 1);
}

TEST_CASE("respond survives corrupted queries and answers them well-formed or not at all", "[respond]") {
    Client c;
    std::vector<std::vector<uint8_t>> seeds;
    for (const char* name : {"www.demo.example", "api.demo.example", "host.sub.demo.example", "x.wild.demo.example"}) {
        test::QuerySpec spec;
        spec.name = name;
        spec.nsid = true;
        spec.ecs_address = ip("10.1.2.0");
        spec.ecs_prefix = 24;
        seeds.push_back(test::build_query(spec));
    }
    uint64_t rng = 0x2545f4914f6cdd1dull;  // fixed: a failure reproduces
    auto next = [&] {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
    };
    size_t answered = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<uint8_t> packet = seeds[next() % seeds.size()];
        const int edits = 1 + static_cast<int>(next() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t at = next() % packet.size();
            switch (next() % 3) {
            case 0: packet[at] = static_cast<uint8_t>(next()); break;
            case 1: packet.resize(at + 1); break;
            default: packet.insert(packet.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(next())); break;
            }
        }
        // Keep QR clear most of the time so that the parser gets past the header.
        if (packet.size() > 2 && next() % 8 != 0) packet[2] &= 0x7f;
        const auto d = c.ask(packet, next() % 2 ? answer::Transport::tcp : answer::Transport::udp);
        if (c.outcome.size == 0) continue;
        ++answered;
        INFO("query " << i);
        REQUIRE(d.ok);
        REQUIRE(d.id == (packet[0] << 8 | packet[1]));
    }
    CHECK(answered > 10000);
}

TEST_CASE("respond: REFUSED carries EDE 20 outside the zones and EDE 18 for zone transfers, with EDNS only", "[respond][ede]") {
    Client c;
    test::QuerySpec spec;
    spec.edns = true;
    spec.name = "www.example.com";
    CHECK(c.ask(spec).lines == Lines{"rcode REFUSED flags qr rd", "question www.example.com. A",
                                     "edns version=0 udp=1232 option15=0014"});
    spec.name = "demo.example";
    spec.type = rrtype::AXFR;
    CHECK(c.ask(spec).lines == Lines{"rcode REFUSED flags qr rd", "question demo.example. AXFR",
                                     "edns version=0 udp=1232 option15=0012"});
    spec.type = rrtype::IXFR;
    CHECK(c.ask(spec).lines.back() == "edns version=0 udp=1232 option15=0012");
    // Without EDNS there is nowhere to put it.
    CHECK(c.ask("www.example.com", rrtype::A).lines == Lines{"rcode REFUSED flags qr rd", "question www.example.com. A"});
    // Answers inside the zones carry none.
    spec.name = "www.demo.example";
    spec.type = rrtype::A;
    for (const std::string& line : c.ask(spec).lines) CHECK(line.find("option15") == std::string::npos);
}

TEST_CASE("respond: a client cookie gets a server cookie, and BADCOOKIE only without a question", "[respond][cookie]") {
    Client c;
    const guard::CookieSecrets secrets{*guard::parse_secret("e5e973e5a6b2a43f48e7dc849e37bfcf"), std::nullopt};
    c.state.cookies = &secrets;
    const std::vector<uint8_t> client{0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};
    test::QuerySpec spec;
    spec.name = "www.demo.example";
    spec.cookie = client;
    const uint32_t now = 1559731985;
    auto ask_at = [&](const std::vector<uint8_t>& packet, const char* source) {
        c.outcome = answer::respond({packet, ip(source), answer::Transport::udp, now}, c.view, c.state, c.out);
        return test::decode({c.out.data(), c.outcome.size});
    };
    // RFC 9018 A.1's client, cookie and time: its server cookie.
    const auto first = ask_at(test::build_query(spec), "198.51.100.100");
    REQUIRE(first.rcode == wire::rcode::noerror);
    CHECK(first.lines.back() == "edns version=0 udp=1232 option10=2464c4abcf10c957010000005cf79f111f8130c3eee29480");
    CHECK_FALSE(first.answer.empty());

    SECTION("a wrong server cookie gets the normal answer and a fresh cookie") {
        spec.cookie.insert(spec.cookie.end(), 16, 0x5a);
        const auto d = ask_at(test::build_query(spec), "198.51.100.100");
        CHECK(d.rcode == wire::rcode::noerror);
        // The same records (rotated by one, as every answer is).
        CHECK(std::set<std::string>(d.answer.begin(), d.answer.end()) ==
              std::set<std::string>(first.answer.begin(), first.answer.end()));
        CHECK(d.lines.back() == first.lines.back());
    }
    SECTION("no question: NOERROR with a valid server cookie, BADCOOKIE without") {
        auto d = ask_at(cookie_only_query(client), "198.51.100.100");
        CHECK(d.lines == Lines{"rcode BADCOOKIE flags qr", "edns version=0 udp=1232 option10=2464c4abcf10c957010000005cf79f111f8130c3eee29480"});
        std::vector<uint8_t> full = client;
        for (uint8_t b : std::vector<uint8_t>{1, 0, 0, 0, 0x5c, 0xf7, 0x9f, 0x11, 0x1f, 0x81, 0x30, 0xc3, 0xee, 0xe2, 0x94, 0x80})
            full.push_back(b);
        d = ask_at(cookie_only_query(full), "198.51.100.100");
        CHECK(d.lines == Lines{"rcode NOERROR flags qr", "edns version=0 udp=1232 option10=2464c4abcf10c957010000005cf79f111f8130c3eee29480"});
        // The same cookie from another address is not its client's.
        d = ask_at(cookie_only_query(full), "198.51.100.101");
        CHECK(d.rcode == wire::rcode::badcookie);
    }
    SECTION("a malformed cookie option is FORMERR") {
        spec.cookie.resize(12, 1);
        CHECK(ask_at(test::build_query(spec), "198.51.100.100").rcode == wire::rcode::formerr);
    }
    SECTION("a server that answers no cookies ignores them") {
        c.state.cookies = nullptr;
        const auto d = ask_at(test::build_query(spec), "198.51.100.100");
        CHECK(d.lines.back() == "edns version=0 udp=1232");
        CHECK(ask_at(cookie_only_query(client), "198.51.100.100").rcode == wire::rcode::formerr);
    }
}

TEST_CASE("respond: RRL drops and slips UDP over the limit, never TCP nor a valid cookie", "[respond][rrl]") {
    Client c;
    guard::Rrl rrl(rrl_settings(3, 2), 7);
    const guard::CookieSecrets secrets{*guard::parse_secret("00112233445566778899aabbccddeeff"), std::nullopt};
    c.state.rrl = &rrl;
    c.state.cookies = &secrets;
    const uint32_t now = 2000;
    auto ask = [&](const std::vector<uint8_t>& packet, answer::Transport transport, const char* source) {
        c.outcome = answer::respond({packet, ip(source), transport, now}, c.view, c.state, c.out);
        return test::decode({c.out.data(), c.outcome.size});
    };
    test::QuerySpec spec;
    spec.name = "www.demo.example";
    const auto query = test::build_query(spec);
    size_t answered = 0, slipped = 0, dropped = 0;
    for (int i = 0; i < 9; ++i) {
        const auto d = ask(query, answer::Transport::udp, "192.0.2.1");
        if (c.outcome.rrl == guard::Verdict::drop) {
            CHECK(c.outcome.size == 0);
            ++dropped;
        } else if (c.outcome.rrl == guard::Verdict::slip) {
            // An empty answer with TC and the question, so a resolver retries over TCP.
            CHECK(d.lines == Lines{"rcode NOERROR flags qr aa tc rd", "question www.demo.example. A"});
            ++slipped;
        } else {
            CHECK_FALSE(d.answer.empty());
            ++answered;
        }
    }
    CHECK(answered == 3);
    CHECK(slipped == 3);
    CHECK(dropped == 3);
    // TCP: never limited.
    for (int i = 0; i < 5; ++i) {
        ask(query, answer::Transport::tcp, "192.0.2.1");
        CHECK(c.outcome.rrl == guard::Verdict::pass);
    }
    // A valid server cookie: never limited. An invalid one: limited.
    spec.cookie = {1, 2, 3, 4, 5, 6, 7, 8};
    const auto learned = guard::answer_cookie(wire::Cookie{{1, 2, 3, 4, 5, 6, 7, 8}, {}, 0}, ip("192.0.2.1"), now, secrets);
    spec.cookie.assign(learned.begin(), learned.end());
    const auto with_cookie = test::build_query(spec);
    for (int i = 0; i < 5; ++i) {
        ask(with_cookie, answer::Transport::udp, "192.0.2.1");
        CHECK(c.outcome.rrl == guard::Verdict::pass);
    }
    spec.cookie.back() ^= 1;
    ask(test::build_query(spec), answer::Transport::udp, "192.0.2.1");
    CHECK(c.outcome.rrl != guard::Verdict::pass);
    // NXDOMAIN counts under the zone: random names are one class.
    spec.cookie.clear();
    size_t nx_passed = 0;
    for (int i = 0; i < 10; ++i) {
        spec.name = "n" + std::to_string(i) + ".demo.example";
        ask(test::build_query(spec), answer::Transport::udp, "192.0.2.77");
        if (c.outcome.rrl == guard::Verdict::pass) ++nx_passed;
    }
    CHECK(nx_passed == 3);
}
