#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <tuple>
#include <vector>

#include "dnsd/wire/buffer.hpp"
#include "dnsd/wire/name.hpp"
#include "dnsd/wire/query.hpp"
#include "dnsd/wire/response.hpp"
#include "packet.hpp"

using namespace dnsd;
using dnsd::test::Bytes;
using Octets = std::vector<uint8_t>;

namespace {

// A query header with RD and one question, then `name`, type A, class IN.
Bytes plain_query(std::string_view name, uint16_t arcount = 0) {
    Bytes b;
    b.header(0x1234, 0x0100, 1, 0, 0, arcount).name(name).u16(1).u16(1);
    return b;
}

// Appends an OPT: root owner, payload, version, DO, then `options` as RDATA.
Bytes& opt(Bytes& b, const Octets& options, uint16_t payload = 1232, uint8_t version = 0) {
    b.u8(0).u16(41).u16(payload).u8(0).u8(version).u16(0).u16(static_cast<uint16_t>(options.size()));
    return b.raw(options);
}

Octets ecs_option(uint16_t family, uint8_t source, uint8_t scope, const Octets& address) {
    Bytes b;
    b.u16(8).u16(static_cast<uint16_t>(4 + address.size())).u16(family).u8(source).u8(scope).raw(address);
    return b.data;
}

wire::ParseStatus parse(const Bytes& b, wire::Query& query) { return wire::parse_query(b.data, query); }

wire::ParseStatus parse_with_options(const Octets& options) {
    Bytes b = plain_query("a.example", 1);
    opt(b, options);
    wire::Query query;
    return parse(b, query);
}

// Appends a root label, then `hops` pointers, each to the one before it (the
// first to the root label). Returns the offset of the last pointer: a name
// read there takes `hops` pointers to reach the root.
size_t pointer_chain(Bytes& b, size_t hops) {
    size_t target = b.size();
    b.u8(0);
    for (size_t i = 0; i < hops; ++i) {
        const size_t at = b.size();
        b.u16(static_cast<uint16_t>(0xc000 | target));
        target = at;
    }
    return target;
}

Octets written(const wire::ResponseWriter&, std::span<const uint8_t> out, size_t size) {
    return Octets(out.begin(), out.begin() + static_cast<ptrdiff_t>(size));
}

}  // namespace

TEST_CASE("Reader reads big-endian fields and refuses to pass its limit", "[wire]") {
    const Octets data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    wire::Reader r(data);
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0;
    REQUIRE(r.u8(a));
    REQUIRE(r.u16(b));
    REQUIRE(r.u32(c));
    CHECK(a == 0x01);
    CHECK(b == 0x0203);
    CHECK(c == 0x04050607);
    CHECK(r.remaining() == 0);
    CHECK_FALSE(r.u8(a));
    CHECK(r.position() == 7);

    wire::Reader short_read(data);
    REQUIRE(short_read.skip(5));
    CHECK_FALSE(short_read.u32(c));  // needs 4, has 2: nothing consumed
    CHECK(short_read.position() == 5);
    std::span<const uint8_t> bytes;
    CHECK_FALSE(short_read.span(3, bytes));
    CHECK(short_read.span(2, bytes));
    CHECK(bytes[0] == 0x06);
    CHECK_FALSE(short_read.seek(8));
    CHECK(short_read.seek(7));
}

TEST_CASE("Writer keeps position <= limit <= capacity", "[wire]") {
    std::array<uint8_t, 8> storage{};
    wire::Writer w(storage);
    w.set_limit(100);
    CHECK(w.limit() == 8);
    REQUIRE(w.u16(0xabcd));
    REQUIRE(w.u32(0x01020304));
    w.set_limit(3);  // below the position: clamped to it
    CHECK(w.limit() == 6);
    CHECK_FALSE(w.u8(1));
    w.set_limit(8);
    CHECK_FALSE(w.u32(0));  // 2 left: nothing written
    CHECK(w.position() == 6);
    REQUIRE(w.patch_u16(0, 0x1122));
    CHECK_FALSE(w.patch_u16(5, 0));  // past what was written
    w.rewind(2);
    REQUIRE(w.u8(0xee));
    CHECK(Octets(storage.begin(), storage.begin() + 3) == Octets{0x11, 0x22, 0xee});
}

TEST_CASE("read_name expands plain and compressed names, keeping case and lower-casing", "[wire]") {
    // "Www.Example" at 12, then a pointer-compressed "Mail" + pointer to "Example".
    Bytes b;
    b.header(0, 0, 0, 0, 0, 0).name("Www.Example");  // 12..24
    const size_t second = b.size();
    b.u8(4).raw({'M', 'a', 'i', 'l'}).raw({0xc0, 16});  // 16: "Example"
    b.u8(0x99);                                       // a byte after the name

    wire::Reader r(b.data);
    REQUIRE(r.seek(12));
    wire::ParsedName name;
    REQUIRE(wire::read_name(r, name));
    CHECK(r.position() == second);
    CHECK(std::string(name.as_is.begin(), name.as_is.begin() + name.size) == std::string("\3Www\7Example\0", 13));
    CHECK(name.lower_view() == std::string_view("\3www\7example\0", 13));

    REQUIRE(wire::read_name(r, name));
    CHECK(r.position() == b.size() - 1);  // just past the pointer
    CHECK(std::string(name.as_is.begin(), name.as_is.begin() + name.size) == std::string("\4Mail\7Example\0", 14));
    CHECK(name.lower_view() == std::string_view("\4mail\7example\0", 14));
}

TEST_CASE("read_name lower-cases A to Z and leaves every other octet as it is", "[wire]") {
    // Every octet value in label data, 128 to a name: labels of 63, 63 and 2;
    // then the same name behind a label and a pointer, two runs to copy.
    for (unsigned first : {0u, 128u}) {
        Bytes b;
        Octets labels;
        unsigned value = first;
        for (unsigned length : {63u, 63u, 2u}) {
            labels.push_back(static_cast<uint8_t>(length));
            for (unsigned i = 0; i < length; ++i) labels.push_back(static_cast<uint8_t>(value++));
        }
        b.raw({1, 'X', 0}).raw(labels).u8(0);  // 0..2: "X.", 3: the name
        b.raw({1, 'Y'}).raw({0xc0, 3});              // "Y." then a pointer to the name
        Octets expected = labels;
        expected.push_back(0);
        for (uint8_t& c : expected) c = c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c;

        wire::Reader r(b.data);
        REQUIRE(r.seek(3));
        wire::ParsedName name;
        REQUIRE(wire::read_name(r, name));
        CHECK(Octets(name.lower.begin(), name.lower.begin() + name.size) == expected);
        CHECK(Octets(name.as_is.begin(), name.as_is.begin() + name.size - 1) == labels);

        REQUIRE(wire::read_name(r, name));
        expected.insert(expected.begin(), {1, 'y'});
        CHECK(Octets(name.lower.begin(), name.lower.begin() + name.size) == expected);
        CHECK(name.as_is[1] == 'Y');
    }
}

TEST_CASE("read_name follows a chain of backward pointers", "[wire]") {
    Bytes b;
    b.name("example");               // 0..8
    b.u8(1).u8('b').raw({0xc0, 0});  // 9: b.example
    b.u8(1).u8('a').raw({0xc0, 9});  // 13: a.b.example
    wire::Reader r(b.data);
    REQUIRE(r.seek(13));
    wire::ParsedName name;
    REQUIRE(wire::read_name(r, name));
    CHECK(name.lower_view() == std::string_view("\1a\1b\7example\0", 13));
    CHECK(r.position() == 17);
}

TEST_CASE("read_name rejects malformed names", "[wire]") {
    wire::ParsedName name;
    auto fails = [&](const Bytes& b, size_t at) {
        wire::Reader r(b.data);
        REQUIRE(r.seek(at));
        const size_t before = r.position();
        const bool ok = wire::read_name(r, name);
        CHECK(r.position() == before);  // a failed read does not move
        return !ok;
    };
    SECTION("pointer to itself") { CHECK(fails(Bytes{}.raw({0, 0, 0xc0, 2}), 2)); }
    SECTION("pointer forward") { CHECK(fails(Bytes{}.raw({0xc0, 2, 0}), 0)); }
    SECTION("two pointers pointing at each other") {
        // at 0: label "a" then pointer to 4; at 4: pointer to 0.
        CHECK(fails(Bytes{}.raw({1, 'a', 0xc0, 4, 0xc0, 0}), 4));
    }
    SECTION("pointer past the end") { CHECK(fails(Bytes{}.raw({0, 0, 0xc0, 0x30}), 2)); }
    SECTION("pointer cut in half") { CHECK(fails(Bytes{}.raw({0, 0xc0}), 1)); }
    SECTION("label type 01 (0x40) and 10 (0x80)") {
        CHECK(fails(Bytes{}.raw({0x40, 'a', 0}), 0));
        CHECK(fails(Bytes{}.raw({0x80, 'a', 0}), 0));
    }
    SECTION("label running past the end") { CHECK(fails(Bytes{}.raw({5, 'a', 'b'}), 0)); }
    SECTION("no root label") { CHECK(fails(Bytes{}.raw({1, 'a'}), 0)); }
    SECTION("empty input") { CHECK(fails(Bytes{}, 0)); }
    SECTION("256 octets") {
        Bytes b;
        for (int i = 0; i < 4; ++i) b.u8(62).raw(Octets(62, 'x'));  // 252
        b.u8(2).raw({'y', 'y'}).u8(0);                               // 256
        CHECK(fails(b, 0));
    }
    SECTION("256 octets reached through a pointer") {
        Bytes b;
        b.u8(62).raw(Octets(62, 'x')).u8(0);  // 0: 64 octets
        const size_t at = b.size();
        for (int i = 0; i < 3; ++i) b.u8(62).raw(Octets(62, 'x'));
        b.raw({0xc0, 0});  // 189 + 64 = 253: fits
        wire::Reader ok(b.data);
        REQUIRE(ok.seek(at));
        REQUIRE(wire::read_name(ok, name));
        CHECK(name.size == 253);
        Bytes longer;
        longer.u8(62).raw(Octets(62, 'x')).u8(0);
        const size_t at2 = longer.size();
        for (int i = 0; i < 3; ++i) longer.u8(62).raw(Octets(62, 'x'));
        longer.u8(2).raw({'z', 'z'}).raw({0xc0, 0});  // 192 + 64 = 256
        CHECK(fails(longer, at2));
    }
}

TEST_CASE("read_name follows at most max_pointer_hops pointers", "[wire]") {
    STATIC_REQUIRE(wire::max_pointer_hops == 128);
    Bytes b;
    const size_t last = pointer_chain(b, wire::max_pointer_hops + 1);
    wire::ParsedName name;
    wire::Reader at_limit(b.data);
    REQUIRE(at_limit.seek(last - 2));  // the pointer before the last: 128 hops
    REQUIRE(wire::read_name(at_limit, name));
    CHECK(name.size == 1);
    CHECK(at_limit.position() == last);
    wire::Reader over(b.data);
    REQUIRE(over.seek(last));  // 129 hops
    CHECK_FALSE(wire::read_name(over, name));
    CHECK(over.position() == last);
}

TEST_CASE("skip_name passes labels and a pointer without following it", "[wire]") {
    auto skips = [](const Bytes& b) {
        wire::Reader r(b.data);
        return wire::skip_name(r) ? r.position() : SIZE_MAX;
    };
    CHECK(skips(Bytes{}.name("www.example").u8(0x99)) == 13);
    CHECK(skips(Bytes{}.raw({0}).u8(0x99)) == 1);
    CHECK(skips(Bytes{}.raw({1, 'a', 0xc0, 0x30})) == 4);  // the target is past the end: not read
    CHECK(skips(Bytes{}.raw({0xff, 0xff})) == 2);
    CHECK(skips(Bytes{}.raw({0x40, 'a', 0})) == SIZE_MAX);  // label types 01 and 10
    CHECK(skips(Bytes{}.raw({0x80, 'a', 0})) == SIZE_MAX);
    CHECK(skips(Bytes{}.raw({1, 'a'})) == SIZE_MAX);  // no root
    CHECK(skips(Bytes{}.raw({1, 'a', 0xc0})) == SIZE_MAX);  // pointer cut in half
    CHECK(skips(Bytes{}.raw({5, 'a', 'b'})) == SIZE_MAX);
    CHECK(skips(Bytes{}) == SIZE_MAX);
    Bytes longest, too_long;
    for (int i = 0; i < 4; ++i) longest.u8(62).raw(Octets(62, 'x'));  // 252 octets
    too_long = longest;
    longest.u8(1).u8('y').u8(0);                                  // 255
    too_long.u8(2).raw({'y', 'y'}).u8(0);                         // 256
    CHECK(skips(longest) == 255);
    CHECK(skips(too_long) == SIZE_MAX);
    Bytes failed = Bytes{}.raw({1, 'a'});
    wire::Reader r(failed.data);
    CHECK_FALSE(wire::skip_name(r));
    CHECK(r.position() == 0);  // a failed skip does not move
}

TEST_CASE("read_name accepts exactly 255 octets and 63-octet labels", "[wire]") {
    Bytes b;
    for (int i = 0; i < 3; ++i) b.u8(63).raw(Octets(63, 'x'));  // 192
    b.u8(61).raw(Octets(61, 'y')).u8(0);                          // 192 + 62 + 1 = 255
    wire::Reader r(b.data);
    wire::ParsedName name;
    REQUIRE(wire::read_name(r, name));
    CHECK(name.size == 255);
    CHECK(wire::name_size({name.lower.data(), name.size}) == 255);
}

TEST_CASE("name_size measures well-formed uncompressed names only", "[wire]") {
    CHECK(wire::name_size(Bytes{}.name("a.bc").data) == 6);
    CHECK(wire::name_size(Bytes{}.raw({0}).data) == 1);
    CHECK(wire::name_size(Bytes{}.raw({1, 'a'}).data) == 0);           // no root
    CHECK(wire::name_size(Bytes{}.raw({0xc0, 0}).data) == 0);          // pointers are not uncompressed
    CHECK(wire::name_size(Bytes{}.raw({1, 'a', 0, 9, 9}).data) == 3);  // stops at the root
}

TEST_CASE("parse_query reads the header and the question", "[wire]") {
    Bytes b;
    b.header(0xbeef, 0x0110, 1, 0, 0, 0).name("WWW.Example").u16(28).u16(1);  // RD, CD
    wire::Query q;
    REQUIRE(parse(b, q) == wire::ParseStatus::ok);
    CHECK(q.id == 0xbeef);
    CHECK(q.rd);
    CHECK(q.cd);
    CHECK(q.opcode == 0);
    CHECK(q.has_question);
    CHECK(q.qtype == 28);
    CHECK(q.qclass == 1);
    CHECK(q.qname.lower_view() == std::string_view("\3www\7example\0", 13));
    CHECK(q.qname.as_is[1] == 'W');
    CHECK_FALSE(q.has_edns);
}

TEST_CASE("parse_query drops what must not be answered", "[wire]") {
    wire::Query q;
    CHECK(parse(Bytes{}, q) == wire::ParseStatus::drop);
    CHECK(parse(Bytes{}.raw({0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0}), q) == wire::ParseStatus::drop);  // 11 octets
    Bytes response;
    response.header(1, 0x8100, 1, 0, 0, 0).name("a").u16(1).u16(1);
    CHECK(parse(response, q) == wire::ParseStatus::drop);
}

TEST_CASE("parse_query: opcodes other than QUERY are NOTIMP", "[wire]") {
    for (uint16_t opcode : {1, 2, 4, 5, 15}) {
        Bytes b;
        b.header(7, static_cast<uint16_t>(opcode << 11), 1, 0, 0, 0).name("a").u16(1).u16(1);
        wire::Query q;
        CHECK(parse(b, q) == wire::ParseStatus::notimp);
        CHECK(q.opcode == opcode);
        CHECK(q.id == 7);
    }
}

TEST_CASE("parse_query: NOTIMP and FORMERR for QDCOUNT still find the OPT", "[wire]") {
    SECTION("opcode other than QUERY") {
        Bytes b;
        b.header(7, 4 << 11, 1, 0, 0, 1).name("a").u16(6).u16(1);
        b.u8(0).u16(41).u16(4096).u8(0).u8(0).u16(0x8000).u16(0);
        wire::Query q;
        CHECK(parse(b, q) == wire::ParseStatus::notimp);
        CHECK(q.has_edns);
        CHECK(q.edns.payload == 4096);
        CHECK(q.edns.dnssec_ok);
        CHECK_FALSE(q.has_question);
    }
    SECTION("no question") {
        Bytes b;
        b.header(7, 0, 0, 0, 0, 1);
        opt(b, {});
        wire::Query q;
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
        CHECK(q.has_edns);
    }
    SECTION("two questions, one compressed, and a record before the OPT") {
        Bytes b;
        b.header(7, 0, 2, 0, 0, 2).name("a").u16(1).u16(1).raw({0xc0, 12}).u16(28).u16(1);
        b.raw({0xc0, 12}).u16(16).u16(1).u32(0).u16(2).raw({1, 'x'});
        opt(b, {});
        wire::Query q;
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
        CHECK(q.has_edns);
        CHECK_FALSE(q.has_question);
    }
    SECTION("a malformed message keeps its status and has no OPT") {
        Bytes b;
        b.header(7, 4 << 11, 2, 0, 0, 1).name("a").u16(1).u16(1);  // the second question is missing
        wire::Query q;
        CHECK(parse(b, q) == wire::ParseStatus::notimp);
        CHECK_FALSE(q.has_edns);
        Bytes cut;
        cut.header(7, 0, 3, 0, 0, 1).name("a").u16(1);
        CHECK(parse(cut, q) == wire::ParseStatus::formerr);
        CHECK_FALSE(q.has_edns);
    }
}

TEST_CASE("parse_query: malformed questions are FORMERR", "[wire]") {
    wire::Query q;
    SECTION("no question") { CHECK(parse(Bytes{}.header(1, 0, 0, 0, 0, 0), q) == wire::ParseStatus::formerr); }
    SECTION("two questions") {
        Bytes b;
        b.header(1, 0, 2, 0, 0, 0).name("a").u16(1).u16(1).name("b").u16(1).u16(1);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
        CHECK_FALSE(q.has_question);
    }
    SECTION("question without its class") {
        Bytes b;
        b.header(1, 0, 1, 0, 0, 0).name("a").u16(1);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("bad label length") {
        Bytes b;
        b.header(1, 0, 1, 0, 0, 0).raw({0x41, 'a', 0}).u16(1).u16(1);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("qname pointing at itself") {
        Bytes b;
        b.header(1, 0, 1, 0, 0, 0).raw({0xc0, 12}).u16(1).u16(1);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("trailing bytes after the last record") {
        Bytes b = plain_query("a");
        b.u8(0);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
        CHECK(q.has_question);
    }
    SECTION("a counted record that is missing") {
        Bytes b;
        b.header(1, 0, 1, 1, 0, 0).name("a").u16(1).u16(1);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("RDLENGTH past the end") {
        Bytes b;
        b.header(1, 0, 1, 0, 1, 0).name("a").u16(1).u16(1);
        b.raw({0xc0, 12}).u16(1).u16(1).u32(0).u16(5).raw({1, 2, 3, 4});
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
}

TEST_CASE("parse_query skips answer, authority and additional records", "[wire]") {
    Bytes b;
    b.header(1, 0, 1, 1, 1, 1).name("a.example").u16(1).u16(1);
    b.raw({0xc0, 12}).u16(1).u16(1).u32(60).u16(4).raw({192, 0, 2, 1});               // answer
    b.name("example").u16(2).u16(1).u32(60).u16(5).raw({2, 'n', 's', 0xc0}).u8(14);   // authority, compressed rdata
    b.raw({0xc0, 14}).u16(16).u16(1).u32(0).u16(2).raw({1, 'x'});                     // additional TXT
    wire::Query q;
    CHECK(parse(b, q) == wire::ParseStatus::ok);
    CHECK_FALSE(q.has_edns);
}

TEST_CASE("parse_query does bounded work on a packet full of pointer chains", "[wire]") {
    // A 64 KB packet: an answer whose RDATA is a chain of 8000 pointers
    // (filling the 16 KB that pointers can reach), then additional records
    // whose owners all point at the chain's end. Following every owner would
    // cost 8000 hops each; those names are skipped instead.
    constexpr size_t hops = 8000;
    Bytes b;
    b.header(1, 0, 1, 1, 0, 0).name("a").u16(1).u16(1);
    b.u8(0).u16(16).u16(1).u32(0).u16(static_cast<uint16_t>(1 + 2 * hops));
    const size_t end_of_chain = pointer_chain(b, hops);
    REQUIRE(end_of_chain <= 0x3fff);
    uint16_t additional = 0;
    while (b.size() + 16 <= 65535) {
        b.u16(static_cast<uint16_t>(0xc000 | end_of_chain)).u16(1).u16(1).u32(0).u16(4).raw({192, 0, 2, 1});
        ++additional;
    }
    b.data[11] = static_cast<uint8_t>(additional);
    b.data[10] = static_cast<uint8_t>(additional >> 8);
    REQUIRE(additional > 3000);

    wire::Query q;
    CHECK(parse(b, q) == wire::ParseStatus::ok);
    CHECK_FALSE(q.has_edns);
    // Had they been followed, the hop limit would have made the packet FORMERR.
    wire::Reader r(b.data);
    REQUIRE(r.seek(end_of_chain));
    wire::ParsedName name;
    CHECK_FALSE(wire::read_name(r, name));
}

TEST_CASE("parse_query reads the OPT", "[wire]") {
    Bytes b = plain_query("a.example", 1);
    b.u8(0).u16(41).u16(4096).u8(0).u8(0).u16(0x8000).u16(0);
    wire::Query q;
    REQUIRE(parse(b, q) == wire::ParseStatus::ok);
    CHECK(q.has_edns);
    CHECK(q.edns.payload == 4096);
    CHECK(q.edns.version == 0);
    CHECK(q.edns.dnssec_ok);
    CHECK_FALSE(q.edns.nsid);
    CHECK_FALSE(q.edns.has_ecs);

    SECTION("a payload under 512 counts as 512") {
        Bytes small = plain_query("a", 1);
        opt(small, {}, 100);
        wire::Query s;
        REQUIRE(parse(small, s) == wire::ParseStatus::ok);
        CHECK(s.edns.payload == 512);
    }
    SECTION("a later version parses; its options are not interpreted") {
        Bytes later = plain_query("a", 1);
        opt(later, ecs_option(7, 0, 0, {}), 1232, 1);
        wire::Query l;
        REQUIRE(parse(later, l) == wire::ParseStatus::ok);
        CHECK(l.edns.version == 1);
    }
}

TEST_CASE("parse_query: malformed OPT records are FORMERR", "[wire]") {
    wire::Query q;
    SECTION("two OPTs") {
        Bytes b = plain_query("a", 2);
        opt(b, {});
        opt(b, {});
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
        CHECK(q.has_edns);
    }
    SECTION("OPT with a non-root owner") {
        Bytes b = plain_query("a", 1);
        b.raw({0xc0, 12}).u16(41).u16(1232).u32(0).u16(0);
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("OPT owner given as a pointer to a root label") {
        Bytes b = plain_query("a", 1);
        b.raw({0xc0, 14}).u16(41).u16(1232).u32(0).u16(0);  // 14: the root label ending "a"
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("OPT in the authority section") {
        Bytes b;
        b.header(1, 0, 1, 0, 1, 0).name("a").u16(1).u16(1);
        opt(b, {});
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
    SECTION("option longer than the RDATA") {
        CHECK(parse_with_options({0, 3, 0, 4, 'a'}) == wire::ParseStatus::formerr);
    }
    SECTION("option header cut short") { CHECK(parse_with_options({0, 3, 0}) == wire::ParseStatus::formerr); }
    SECTION("OPT RDLENGTH past the packet") {
        Bytes b = plain_query("a", 1);
        b.u8(0).u16(41).u16(1232).u32(0).u16(8).raw({0, 3, 0, 0});
        CHECK(parse(b, q) == wire::ParseStatus::formerr);
    }
}

TEST_CASE("parse_query reads NSID, cookies and unknown options", "[wire]") {
    Bytes b = plain_query("a", 1);
    opt(b, {0, 3, 0, 0, /* cookie */ 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, /* unknown */ 0xfd, 0xe9, 0, 1, 9});
    wire::Query q;
    REQUIRE(parse(b, q) == wire::ParseStatus::ok);
    CHECK(q.edns.nsid);

    Octets server_cookie{0, 10, 0, 24};
    for (int i = 0; i < 24; ++i) server_cookie.push_back(static_cast<uint8_t>(i));
    CHECK(parse_with_options(server_cookie) == wire::ParseStatus::ok);
    CHECK(parse_with_options({0, 10, 0, 4, 1, 2, 3, 4}) == wire::ParseStatus::formerr);  // too short
    Octets cookie12{0, 10, 0, 12};
    cookie12.resize(16, 1);
    CHECK(parse_with_options(cookie12) == wire::ParseStatus::formerr);  // server part too short
    Octets cookie41{0, 10, 0, 41};
    cookie41.resize(45, 1);
    CHECK(parse_with_options(cookie41) == wire::ParseStatus::formerr);  // too long
}

TEST_CASE("parse_query reads a valid ECS option", "[wire]") {
    SECTION("IPv4 /24") {
        Bytes b = plain_query("a", 1);
        opt(b, ecs_option(1, 24, 0, {198, 51, 100}));
        wire::Query q;
        REQUIRE(parse(b, q) == wire::ParseStatus::ok);
        REQUIRE(q.edns.has_ecs);
        CHECK(q.edns.ecs.source_prefix == 24);
        CHECK(q.edns.ecs.address == *core::Address::parse("198.51.100.0"));
    }
    SECTION("IPv6 /56") {
        Bytes b = plain_query("a", 1);
        opt(b, ecs_option(2, 56, 0, {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56}));
        wire::Query q;
        REQUIRE(parse(b, q) == wire::ParseStatus::ok);
        CHECK(q.edns.ecs.address == *core::Address::parse("2001:db8:1234:5600::"));
        CHECK(q.edns.ecs.source_prefix == 56);
    }
    SECTION("prefix 0, no address") {
        Bytes b = plain_query("a", 1);
        opt(b, ecs_option(1, 0, 0, {}));
        wire::Query q;
        REQUIRE(parse(b, q) == wire::ParseStatus::ok);
        CHECK(q.edns.has_ecs);
        CHECK(q.edns.ecs.source_prefix == 0);
    }
    SECTION("a prefix that is not a multiple of 8, with the spare bits clear") {
        CHECK(parse_with_options(ecs_option(1, 23, 0, {10, 1, 2})) == wire::ParseStatus::ok);
    }
}

TEST_CASE("parse_query: every invalid ECS is FORMERR", "[wire]") {
    CHECK(parse_with_options(ecs_option(3, 0, 0, {})) == wire::ParseStatus::formerr);                // family
    CHECK(parse_with_options(ecs_option(0, 0, 0, {})) == wire::ParseStatus::formerr);                // family
    CHECK(parse_with_options(ecs_option(1, 33, 0, {1, 2, 3, 4, 5})) == wire::ParseStatus::formerr);  // prefix > 32
    CHECK(parse_with_options(ecs_option(2, 129, 0, Octets(17, 0))) == wire::ParseStatus::formerr);   // prefix > 128
    CHECK(parse_with_options(ecs_option(1, 24, 0, {10, 1})) == wire::ParseStatus::formerr);          // too few octets
    CHECK(parse_with_options(ecs_option(1, 24, 0, {10, 1, 2, 0})) == wire::ParseStatus::formerr);   // too many
    CHECK(parse_with_options(ecs_option(1, 23, 0, {10, 1, 3})) == wire::ParseStatus::formerr);       // bit past /23
    CHECK(parse_with_options(ecs_option(1, 0, 0, {0})) == wire::ParseStatus::formerr);               // octet for /0
    CHECK(parse_with_options(ecs_option(1, 24, 24, {10, 1, 2})) == wire::ParseStatus::formerr);      // scope != 0
    CHECK(parse_with_options({0, 8, 0, 3, 0, 1, 24}) == wire::ParseStatus::formerr);                 // cut short
    Octets twice = ecs_option(1, 24, 0, {10, 1, 2});
    const Octets second = ecs_option(1, 24, 0, {10, 1, 3});
    twice.insert(twice.end(), second.begin(), second.end());
    CHECK(parse_with_options(twice) == wire::ParseStatus::formerr);
}

TEST_CASE("ResponseWriter writes header, question and a compressed record, byte for byte", "[wire]") {
    Bytes query;
    query.header(0xbeef, 0x0110, 1, 0, 0, 0).name("WWW.Example").u16(5).u16(1);
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);

    std::array<uint8_t, 512> out{};
    wire::ResponseWriter w(out, out.size());
    w.begin(q);
    REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
    // CNAME www.example → web.example: owner becomes a pointer to the
    // question; the target keeps "web" and points at "example".
    const std::string target = test::wire_name("web.example");
    const std::array<uint16_t, 1> offsets{0};
    REQUIRE(w.record(wire::Section::answer, test::wire_name("www.example"), 5, 300,
                     {reinterpret_cast<const uint8_t*>(target.data()), target.size()}, offsets));
    w.set_authoritative(true);
    const size_t size = w.finish(nullptr);

    Bytes expected;
    expected.header(0xbeef, 0x8510, 1, 1, 0, 0).name("WWW.Example").u16(5).u16(1);
    expected.raw({0xc0, 12}).u16(5).u16(1).u32(300).u16(6).raw({3, 'w', 'e', 'b', 0xc0, 16});
    CHECK(written(w, out, size) == expected.data);
}

TEST_CASE("ResponseWriter leaves uncompressible names whole and compresses SOA names", "[wire]") {
    Bytes query = plain_query("example");
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    std::array<uint8_t, 512> out{};
    wire::ResponseWriter w(out, out.size());
    w.begin(q);
    REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
    // SRV 0 0 80 example.: the target must stay whole (RFC 2782).
    Bytes srv;
    srv.u16(0).u16(0).u16(80).name("example");
    REQUIRE(w.record(wire::Section::answer, test::wire_name("example"), 33, 60, srv.data));
    // SOA ns.example. h.example. 1 2 3 4 5, both names compressible.
    Bytes soa;
    soa.name("ns.example").name("h.example").u32(1).u32(2).u32(3).u32(4).u32(5);
    const std::array<uint16_t, 2> soa_names{0, 12};
    REQUIRE(w.record(wire::Section::authority, test::wire_name("example"), 6, 60, soa.data, soa_names));
    const size_t size = w.finish(nullptr);

    Bytes expected;
    expected.header(0x1234, 0x8100, 1, 1, 1, 0).name("example").u16(1).u16(1);
    expected.raw({0xc0, 12}).u16(33).u16(1).u32(60).u16(15).u16(0).u16(0).u16(80).name("example");
    expected.raw({0xc0, 12}).u16(6).u16(1).u32(60).u16(29);
    expected.raw({2, 'n', 's', 0xc0, 12, 1, 'h', 0xc0, 12}).u32(1).u32(2).u32(3).u32(4).u32(5);
    CHECK(written(w, out, size) == expected.data);
}

TEST_CASE("ResponseWriter: a repeated owner points at its first copy, never at bytes a rewind freed", "[wire]") {
    Bytes query = plain_query("example");
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    std::array<uint8_t, 512> out{};
    wire::ResponseWriter w(out, out.size());
    w.begin(q);
    REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));  // 12-24
    const std::array<uint8_t, 4> address{192, 0, 2, 1};
    const auto mark = w.mark();
    REQUIRE(w.record(wire::Section::answer, test::wire_name("aa.other"), 1, 60, address));
    w.rewind(mark);
    // Written again where the rewound copy was: in full, not a pointer to itself.
    REQUIRE(w.record(wire::Section::answer, test::wire_name("aa.other"), 1, 60, address));  // 25-48
    REQUIRE(w.record(wire::Section::answer, test::wire_name("aa.other"), 1, 60, address));  // 49-64
    const size_t size = w.finish(nullptr);

    Bytes expected;
    expected.header(0x1234, 0x8100, 1, 2, 0, 0).name("example").u16(1).u16(1);
    expected.name("aa.other").u16(1).u16(1).u32(60).u16(4).raw({192, 0, 2, 1});
    expected.raw({0xc0, 25}).u16(1).u16(1).u32(60).u16(4).raw({192, 0, 2, 1});
    CHECK(written(w, out, size) == expected.data);
}

TEST_CASE("ResponseWriter writes the OPT with NSID, ECS and the extended rcode", "[wire]") {
    Bytes query = plain_query("a", 1);
    opt(query, ecs_option(1, 22, 0, {192, 0, 4}));
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    std::array<uint8_t, 512> out{};
    wire::ResponseWriter w(out, out.size());
    w.begin(q);
    REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
    wire::OptRecord record;
    record.payload = 1400;
    record.nsid = "ns-1";
    record.ecs = &q.edns.ecs;
    record.ecs_scope_prefix = 20;
    CHECK(record.size() == 11 + 8 + 11);
    w.set_rcode(wire::rcode::badvers);
    const size_t size = w.finish(&record);

    Bytes expected;
    expected.header(0x1234, 0x8100, 1, 0, 0, 1).name("a").u16(1).u16(1);
    expected.u8(0).u16(41).u16(1400).u8(1).u8(0).u16(0).u16(19);
    expected.u16(3).u16(4).raw({'n', 's', '-', '1'});
    expected.u16(8).u16(7).u16(1).u8(22).u8(20).raw({192, 0, 4});
    CHECK(written(w, out, size) == expected.data);
}

TEST_CASE("ResponseWriter copies the DO bit into the OPT", "[wire]") {
    Bytes query = plain_query("a", 1);
    query.u8(0).u16(41).u16(1232).u8(0).u8(0).u16(0x8000).u16(0);
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    for (bool dnssec_ok : {true, false}) {
        std::array<uint8_t, 512> out{};
        wire::ResponseWriter w(out, out.size());
        w.begin(q);
        REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
        wire::OptRecord record;
        record.dnssec_ok = dnssec_ok;
        const size_t size = w.finish(&record);
        Bytes expected;
        expected.header(0x1234, 0x8100, 1, 0, 0, 1).name("a").u16(1).u16(1);
        expected.u8(0).u16(41).u16(1232).u8(0).u8(0).u16(dnssec_ok ? 0x8000 : 0).u16(0);
        CHECK(written(w, out, size) == expected.data);
    }
}

TEST_CASE("ResponseWriter refuses a record that does not fit and can truncate", "[wire]") {
    Bytes query = plain_query("a.example");
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    std::array<uint8_t, 512> out{};
    // Header 12 + question 15 = 27; each A record with a pointer owner is 16.
    wire::ResponseWriter w(out, 27 + 16 * 2 + 10);
    w.begin(q);
    REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
    const std::string owner = test::wire_name("a.example");
    const Octets address{192, 0, 2, 1};
    REQUIRE(w.record(wire::Section::answer, owner, 1, 60, address));
    REQUIRE(w.record(wire::Section::answer, owner, 1, 60, address));
    const auto before = w.mark();
    CHECK_FALSE(w.record(wire::Section::answer, owner, 1, 60, address));
    CHECK(w.mark().position == before.position);
    CHECK(w.count(wire::Section::answer) == 2);

    SECTION("reserving room for the OPT makes less fit") {
        wire::ResponseWriter r(out, 27 + 16 * 2 + 10);
        r.begin(q);
        REQUIRE(r.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
        r.reserve(11);
        REQUIRE(r.record(wire::Section::answer, owner, 1, 60, address));
        CHECK_FALSE(r.record(wire::Section::answer, owner, 1, 60, address));
        wire::OptRecord record;
        const size_t size = r.finish(&record);
        CHECK(size == 27 + 16 + 11);
    }
    SECTION("reserving more than is left holds what is left and gives it back") {
        wire::ResponseWriter r(out, 40);
        r.begin(q);
        REQUIRE(r.question(q.qname.as_is_bytes(), q.qtype, q.qclass));  // 27
        r.reserve(100);
        CHECK_FALSE(r.record(wire::Section::answer, owner, 1, 60, address));
        wire::OptRecord record;
        CHECK(r.finish(&record) == 27 + 11);
    }
    SECTION("sections go in order") {
        wire::ResponseWriter order(out, out.size());
        order.begin(q);
        REQUIRE(order.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
        REQUIRE(order.record(wire::Section::authority, owner, 1, 60, address));
        CHECK_FALSE(order.record(wire::Section::answer, owner, 1, 60, address));
    }
    SECTION("truncate keeps the header and question and sets TC") {
        w.truncate();
        const size_t size = w.finish(nullptr);
        Bytes expected;
        expected.header(0x1234, 0x8300, 1, 0, 0, 0).name("a.example").u16(1).u16(1);
        CHECK(written(w, out, size) == expected.data);
    }
}

TEST_CASE("ResponseWriter::question_record writes what record() writes for the question's name", "[wire]") {
    Bytes query;
    query.header(0xbeef, 0x0100, 1, 0, 0, 0).name("WWW.Example").u16(1).u16(1);
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    const std::string owner(q.qname.lower_view());
    const Octets v4{192, 0, 2, 1}, v6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const auto fill = [&](wire::ResponseWriter& w, bool fast) {
        w.begin(q);
        REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
        for (const auto& [section, type, rdata] : {std::tuple{wire::Section::answer, uint16_t{1}, &v4},
                                                   std::tuple{wire::Section::answer, uint16_t{1}, &v4},
                                                   std::tuple{wire::Section::additional, uint16_t{28}, &v6}})
            REQUIRE((fast ? w.question_record(section, type, 300, *rdata)
                          : w.record(section, owner, type, 300, *rdata)));
        return w.finish(nullptr);
    };
    std::array<uint8_t, 512> generic_out{}, fast_out{};
    wire::ResponseWriter generic(generic_out, generic_out.size()), fast(fast_out, fast_out.size());
    const size_t generic_size = fill(generic, false), fast_size = fill(fast, true);
    CHECK(written(fast, fast_out, fast_size) == written(generic, generic_out, generic_size));
    Bytes expected;
    expected.header(0xbeef, 0x8100, 1, 2, 0, 1).name("WWW.Example").u16(1).u16(1);
    expected.raw({0xc0, 12}).u16(1).u16(1).u32(300).u16(4).raw(v4);
    expected.raw({0xc0, 12}).u16(1).u16(1).u32(300).u16(4).raw(v4);
    expected.raw({0xc0, 12}).u16(28).u16(1).u32(300).u16(16).raw(v6);
    CHECK(written(fast, fast_out, fast_size) == expected.data);

    SECTION("refused, with nothing written, when it does not fit, out of section order or without a question") {
        // Header 12 + question 17 = 29; one A record with a pointer owner is 16.
        wire::ResponseWriter w(fast_out, 29 + 16 + 15);
        w.begin(q);
        REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
        REQUIRE(w.question_record(wire::Section::authority, 1, 60, v4));
        const auto before = w.mark();
        CHECK_FALSE(w.question_record(wire::Section::authority, 1, 60, v4));
        CHECK(w.mark().position == before.position);
        CHECK_FALSE(w.question_record(wire::Section::answer, 1, 60, Octets{}));
        CHECK(w.count(wire::Section::authority) == 1);
        CHECK(w.count(wire::Section::answer) == 0);

        wire::ResponseWriter no_question(fast_out, fast_out.size());
        no_question.begin(q);
        CHECK_FALSE(no_question.question_record(wire::Section::answer, 1, 60, v4));
        CHECK(no_question.finish(nullptr) == wire::header_size);
    }
}

TEST_CASE("ResponseWriter output decodes back to the records written, with a full compression table", "[wire]") {
    Bytes query = plain_query("q.example");
    wire::Query q;
    REQUIRE(wire::parse_query(query.data, q) == wire::ParseStatus::ok);
    std::vector<uint8_t> out(65535);
    wire::ResponseWriter w(out, out.size());
    w.begin(q);
    REQUIRE(w.question(q.qname.as_is_bytes(), q.qtype, q.qclass));
    // 150 distinct owners overflow the compression table; later names must
    // still be written correctly, only longer.
    std::vector<std::string> owners;
    for (int i = 0; i < 150; ++i) owners.push_back("n" + std::to_string(i) + ".l" + std::to_string(i % 7) + ".example.");
    for (const auto& owner : owners)
        REQUIRE(w.record(wire::Section::answer, test::wire_name(owner), 1, 1, Octets{10, 0, 0, 1}));
    const size_t size = w.finish(nullptr);
    const test::Decoded d = test::decode({out.data(), size});
    REQUIRE(d.ok);
    REQUIRE(d.answer.size() == owners.size());
    for (size_t i = 0; i < owners.size(); ++i) CHECK(d.answer[i] == owners[i] + " 1 A 10.0.0.1");
}
