// SPEC §7 against the real binary: headers, negative answers, CNAMEs,
// delegations, wildcards, the additional section, ANY, zone transfers, opcodes
// and malformed queries. The zones are tests/data/e2e/zones/*.json.
#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

constexpr uint16_t flag_qr = 0x8000, flag_rd = 0x0100;

const std::string static_soa = "static.test. 60 IN SOA ns1.static.test. hostmaster.static.test. 2024010101 3600 600 604800 60";

// The question section of a message with one question: from octet 12 to the end of QTYPE/QCLASS.
Bytes question_of(const Bytes& message) {
    size_t at = 12;
    while (at < message.size() && message[at] != 0) at += 1 + message[at];
    return Bytes(message.begin() + 12, message.begin() + static_cast<long>(std::min(at + 5, message.size())));
}

// Sends `bad`, then a good query with another ID on the same socket: the first
// datagram back must answer the good one, so `bad` was dropped.
void check_dropped(const Dnsd& server, const Bytes& bad) {
    UdpClient client("127.0.0.1", server.port());
    client.send(bad);
    client.send(make_query(0x600D, "www.static.test", rrtype::A));
    auto first = client.receive();
    REQUIRE(first);
    auto response = parse_response(*first);
    REQUIRE(response);
    CHECK(response->header.id == 0x600D);
    CHECK(response->header.rcode() == rcode::noerror);
}

}  // namespace

TEST_CASE("responses echo ID, opcode, RD and the question, set QR and AA, clear RA", "[dns][header]") {
    Dnsd server = start_one_worker();
    for (uint16_t flags : {uint16_t{flag_rd}, uint16_t{0}}) {
        const Bytes query = make_query(0xBEEF, "www.static.test", rrtype::A, flags);
        auto bytes = udp_exchange(server.port(), query);
        REQUIRE(bytes);
        auto response = parse_response(*bytes);
        REQUIRE(response);
        const Header& h = response->header;
        CHECK(h.id == 0xBEEF);
        CHECK(h.qr());
        CHECK(h.opcode() == 0);
        CHECK(h.aa());
        CHECK_FALSE(h.ra());
        CHECK_FALSE(h.tc());
        CHECK(h.rd() == ((flags & flag_rd) != 0));
        CHECK(h.rcode() == rcode::noerror);
        CHECK(h.qdcount == 1);
        CHECK(question_of(*bytes) == question_of(query));
        CHECK(response->answer_addresses == std::vector<std::string>{"192.0.2.10"});
    }
}

TEST_CASE("the question's case is preserved (0x20)", "[dns][header]") {
    Dnsd server = start_one_worker();
    const Bytes query = make_query(0x0020, "wWw.StAtIc.tEsT", rrtype::A);
    auto bytes = udp_exchange(server.port(), query);
    REQUIRE(bytes);
    CHECK(question_of(*bytes) == question_of(query));
    auto response = parse_response(*bytes);
    REQUIRE(response);
    CHECK(response->answer_addresses == std::vector<std::string>{"192.0.2.10"});

    auto result = dig(server.port(), {"MiXeD.cAsE.StAtIc.TeSt.", "A"});
    CHECK(result.question == "MiXeD.cAsE.StAtIc.TeSt. IN A");
    CHECK(texts(result.answer) == Texts{"mixed.case.static.test. 300 IN A 192.0.2.90"});
}

TEST_CASE("names are compressed", "[dns][header]") {
    Dnsd server = start_one_worker();
    // multi.static.test A: header 12 + question 19+4 + four answers of a 2-octet
    // pointer, 10 octets of type/class/TTL/length and 4 of address.
    auto bytes = udp_exchange(server.port(), make_query(1, "multi.static.test", rrtype::A));
    REQUIRE(bytes);
    CHECK(bytes->size() == 12 + 23 + 4 * 16);
}

TEST_CASE("names outside every zone are REFUSED", "[dns][refused]") {
    Dnsd server = start_one_worker();
    for (const char* name : {"www.example.com.", "test.", "static.test.example.", "xstatic.test."}) {
        INFO(name);
        auto result = dig(server.port(), {name, "A"});
        REQUIRE(result.answered);
        CHECK(result.status == "REFUSED");
        CHECK_FALSE(result.has_flag("aa"));
        CHECK(result.answer.empty());
    }
}

TEST_CASE("NXDOMAIN carries the SOA with TTL min(SOA TTL, minimum)", "[dns][negative]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"nothing.static.test.", "A"});
    REQUIRE(result.answered);
    CHECK(result.status == "NXDOMAIN");
    CHECK(result.has_flag("aa"));
    CHECK(result.answer.empty());
    // static.test: TTL 300, minimum 60.
    CHECK(texts(result.authority) == Texts{static_soa});

    // pools.test: TTL 45, minimum 120.
    auto pools = dig(server.port(), {"a.b.nothing.pools.test.", "AAAA"});
    CHECK(pools.status == "NXDOMAIN");
    REQUIRE(pools.authority.size() == 1);
    CHECK(pools.authority[0].type == "SOA");
    CHECK(pools.authority[0].owner == "pools.test.");
    CHECK(pools.authority[0].ttl == 45);
}

TEST_CASE("NODATA: NOERROR, no answer, the SOA in authority", "[dns][negative]") {
    Dnsd server = start_one_worker();
    struct Case {
        const char* name;
        const char* type;
    };
    // A name without the type, empty non-terminals (ent, deep.ent, _tcp), and
    // a name with only a pool asked for a type the pool has no member of.
    for (auto [name, type] : {Case{"www.static.test.", "MX"}, Case{"www.static.test.", "TXT"},
                              Case{"ent.static.test.", "A"}, Case{"deep.ent.static.test.", "AAAA"},
                              Case{"_tcp.static.test.", "SRV"}, Case{"static.test.", "PTR"}}) {
        INFO(name << " " << type);
        auto result = dig(server.port(), {name, type});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK(result.has_flag("aa"));
        CHECK(result.answer.empty());
        CHECK(texts(result.authority) == Texts{static_soa});
    }
    auto v4only = dig(server.port(), {"v4only.pools.test.", "AAAA"});
    CHECK(v4only.status == "NOERROR");
    CHECK(v4only.answer.empty());
    REQUIRE(v4only.authority.size() == 1);
    CHECK(v4only.authority[0].type == "SOA");
    CHECK(v4only.authority[0].ttl == 45);
}

TEST_CASE("CNAME chains are followed within a zone", "[dns][cname]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"chain1.static.test.", "A"});
    REQUIRE(result.answered);
    CHECK(result.status == "NOERROR");
    CHECK(result.has_flag("aa"));
    std::vector<std::string> answer;
    for (const auto& rr : result.answer) answer.push_back(rr.text());
    CHECK(answer == std::vector<std::string>{
                        "chain1.static.test. 300 IN CNAME chain2.static.test.",
                        "chain2.static.test. 300 IN CNAME chain3.static.test.",
                        "chain3.static.test. 300 IN CNAME www.static.test.",
                        "www.static.test. 300 IN A 192.0.2.10",
                    });
    CHECK(result.authority.empty());

    auto alias = dig(server.port(), {"alias.static.test.", "AAAA"});
    CHECK(texts(alias.answer) == Texts{"alias.static.test. 300 IN CNAME www.static.test.",
                                       "www.static.test. 300 IN AAAA 2001:db8::10"});

    // Asked for the CNAME itself: just the CNAME.
    auto cname = dig(server.port(), {"alias.static.test.", "CNAME"});
    CHECK(texts(cname.answer) == Texts{"alias.static.test. 300 IN CNAME www.static.test."});
}

TEST_CASE("CNAME chains are followed into another served zone", "[dns][cname]") {
    Dnsd server = start_one_worker();
    auto cross = dig(server.port(), {"cross.static.test.", "A"});
    REQUIRE(cross.answered);
    CHECK(cross.status == "NOERROR");
    CHECK(cross.has_flag("aa"));
    CHECK(texts(cross.answer) == Texts{"cross.static.test. 300 IN CNAME www.other.test.",
                                       "www.other.test. 40 IN A 198.51.100.20"});

    auto back = dig(server.port(), {"back.other.test.", "AAAA"});
    CHECK(texts(back.answer) == Texts{"back.other.test. 40 IN CNAME www.static.test.",
                                      "www.static.test. 300 IN AAAA 2001:db8::10"});
}

TEST_CASE("a CNAME to an outside name is answered with the CNAME alone", "[dns][cname]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"out.static.test.", "A"});
    REQUIRE(result.answered);
    CHECK(result.status == "NOERROR");
    CHECK(result.has_flag("aa"));
    CHECK(texts(result.answer) == Texts{"out.static.test. 300 IN CNAME www.outside.example."});
    CHECK(result.authority.empty());
}

TEST_CASE("a CNAME to a missing in-zone name gives NXDOMAIN with the CNAME", "[dns][cname]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"dangling.static.test.", "A"});
    REQUIRE(result.answered);
    CHECK(result.status == "NXDOMAIN");
    CHECK(texts(result.answer) == Texts{"dangling.static.test. 300 IN CNAME nothere.static.test."});
    CHECK(texts(result.authority) == Texts{static_soa});
}

TEST_CASE("a CNAME loop is answered, and the chain is bounded", "[dns][cname]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"loop1.static.test.", "A"});
    REQUIRE(result.answered);
    CHECK((result.status == "NOERROR" || result.status == "SERVFAIL"));
    CHECK_FALSE(result.answer.empty());
    CHECK(result.answer.size() <= 9);  // the question's CNAME and at most 8 links
    for (const auto& rr : result.answer) CHECK(rr.type == "CNAME");
    CHECK(texts(result.answer).count("loop1.static.test. 300 IN CNAME loop2.static.test.") == 1);
    // And the server is still there.
    CHECK(dig(server.port(), {"www.static.test.", "A"}).status == "NOERROR");
}

TEST_CASE("a delegation gets a referral: AA clear, NS in authority, glue in additional", "[dns][delegation]") {
    Dnsd server = start_one_worker();
    const Texts ns{"sub.static.test. 300 IN NS ns1.sub.static.test.", "sub.static.test. 300 IN NS ns.outside.example."};
    const Texts glue{"ns1.sub.static.test. 300 IN A 192.0.2.100", "ns1.sub.static.test. 300 IN AAAA 2001:db8::100"};
    struct Case {
        const char* name;
        const char* type;
    };
    // Below the cut, the cut itself, and the glue's own name (not authoritative data).
    for (auto [name, type] : {Case{"www.sub.static.test.", "A"}, Case{"a.b.sub.static.test.", "MX"},
                              Case{"sub.static.test.", "NS"}, Case{"sub.static.test.", "A"},
                              Case{"ns1.sub.static.test.", "A"}}) {
        INFO(name << " " << type);
        auto result = dig(server.port(), {name, type});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK_FALSE(result.has_flag("aa"));
        CHECK(result.answer.empty());
        CHECK(texts(result.authority) == ns);
        CHECK(texts(result.additional) == glue);
    }
    // No in-zone name server: no glue.
    auto sub3 = dig(server.port(), {"www.sub3.static.test.", "A"});
    CHECK_FALSE(sub3.has_flag("aa"));
    CHECK(texts(sub3.authority) == Texts{"sub3.static.test. 300 IN NS ns.outside.example."});
    CHECK(sub3.additional.empty());
}

TEST_CASE("DS at a zone cut is answered by the parent: authoritative NODATA", "[dns][delegation]") {
    Dnsd server = start_one_worker();
    for (const char* name : {"sub.static.test.", "sub3.static.test."}) {
        INFO(name);
        auto result = dig(server.port(), {name, "DS"});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK(result.has_flag("aa"));
        CHECK(result.answer.empty());
        CHECK(texts(result.authority) == Texts{static_soa});
    }
}

TEST_CASE("wildcards synthesise answers for names that do not exist (RFC 4592)", "[dns][wildcard]") {
    Dnsd server = start_one_worker();
    auto one = dig(server.port(), {"a.wild.static.test.", "A"});
    REQUIRE(one.answered);
    CHECK(one.status == "NOERROR");
    CHECK(one.has_flag("aa"));
    CHECK(texts(one.answer) == Texts{"a.wild.static.test. 300 IN A 192.0.2.80"});

    auto deeper = dig(server.port(), {"B.c.wild.static.test.", "AAAA"});
    CHECK(texts(deeper.answer) == Texts{"b.c.wild.static.test. 300 IN AAAA 2001:db8::80"});

    auto txt = dig(server.port(), {"x.wild.static.test.", "TXT"});
    CHECK(texts(txt.answer) == Texts{"x.wild.static.test. 300 IN TXT \"wildcard\""});

    // The wildcard's own name answers with its data.
    auto itself = dig(server.port(), {"*.wild.static.test.", "A"});
    CHECK(texts(itself.answer) == Texts{"*.wild.static.test. 300 IN A 192.0.2.80"});

    // A matched wildcard without the type: NODATA.
    auto nodata = dig(server.port(), {"a.wild.static.test.", "MX"});
    CHECK(nodata.status == "NOERROR");
    CHECK(nodata.answer.empty());
    CHECK(texts(nodata.authority) == Texts{static_soa});

    // A wildcard CNAME is synthesised and followed.
    auto cname = dig(server.port(), {"a.cnamewild.static.test.", "A"});
    CHECK(texts(cname.answer) == Texts{"a.cnamewild.static.test. 300 IN CNAME www.static.test.",
                                       "www.static.test. 300 IN A 192.0.2.10"});
}

TEST_CASE("wildcards do not match existing names, names below them, or below empty non-terminals", "[dns][wildcard]") {
    Dnsd server = start_one_worker();
    // exists.wild exists (TXT only): its A is NODATA, not the wildcard's A.
    auto exists = dig(server.port(), {"exists.wild.static.test.", "A"});
    CHECK(exists.status == "NOERROR");
    CHECK(exists.answer.empty());
    CHECK(texts(exists.authority) == Texts{static_soa});
    // Below an existing name the closest encloser is that name, which has no wildcard.
    auto below = dig(server.port(), {"x.exists.wild.static.test.", "A"});
    CHECK(below.status == "NXDOMAIN");
    CHECK(below.answer.empty());
    // ent.wild is an empty non-terminal (host.ent.wild exists): it blocks the wildcard.
    auto ent = dig(server.port(), {"ent.wild.static.test.", "A"});
    CHECK(ent.status == "NOERROR");
    CHECK(ent.answer.empty());
    auto under_ent = dig(server.port(), {"x.ent.wild.static.test.", "A"});
    CHECK(under_ent.status == "NXDOMAIN");
    CHECK(under_ent.answer.empty());
}

TEST_CASE("a wildcard may name a pool", "[dns][wildcard][pool]") {
    Dnsd server = start_one_worker();
    const Texts members{"192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24"};
    for (const char* name : {"x.cdn.pools.test.", "a.b.cdn.pools.test."}) {
        INFO(name);
        auto result = dig(server.port(), {name, "A"});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK(result.has_flag("aa"));
        Texts addresses;
        for (const auto& rr : result.answer) {
            CHECK(rr.owner == std::string(name));
            CHECK(rr.type == "A");
            CHECK(rr.ttl == 20);
            addresses.insert(rr.rdata);
        }
        CHECK(addresses == members);
    }
}

TEST_CASE("apex NS, MX and SRV answers carry in-zone addresses in additional, and nothing else", "[dns][additional]") {
    Dnsd server = start_one_worker();
    auto ns = dig(server.port(), {"static.test.", "NS"});
    CHECK(texts(ns.answer) == Texts{"static.test. 300 IN NS ns1.static.test.", "static.test. 300 IN NS ns2.static.test."});
    CHECK(ns.authority.empty());
    CHECK(texts(ns.additional) == Texts{"ns1.static.test. 300 IN A 192.0.2.53", "ns1.static.test. 300 IN AAAA 2001:db8::53",
                                        "ns2.static.test. 300 IN A 192.0.2.54"});

    auto mx = dig(server.port(), {"static.test.", "MX"});
    CHECK(texts(mx.answer) == Texts{"static.test. 300 IN MX 10 mail.static.test.",
                                    "static.test. 300 IN MX 20 mx.outside.example."});
    CHECK(mx.authority.empty());
    CHECK(texts(mx.additional) == Texts{"mail.static.test. 300 IN A 192.0.2.25", "mail.static.test. 300 IN AAAA 2001:db8::25"});

    auto srv = dig(server.port(), {"_sip._tcp.static.test.", "SRV"});
    CHECK(texts(srv.answer) == Texts{"_sip._tcp.static.test. 300 IN SRV 10 60 5060 sip1.static.test.",
                                     "_sip._tcp.static.test. 300 IN SRV 20 0 5060 sip2.outside.example."});
    CHECK(srv.authority.empty());
    CHECK(texts(srv.additional) == Texts{"sip1.static.test. 300 IN A 192.0.2.61", "sip1.static.test. 300 IN AAAA 2001:db8::61"});
}

TEST_CASE("responses are minimal: no NS in authority on positive answers, nothing extra in additional", "[dns][additional]") {
    Dnsd server = start_one_worker();
    struct Case {
        const char* name;
        const char* type;
    };
    for (auto [name, type] : {Case{"www.static.test.", "A"}, Case{"static.test.", "A"}, Case{"static.test.", "SOA"},
                              Case{"txt.static.test.", "TXT"}, Case{"ptr.static.test.", "PTR"},
                              Case{"caa.static.test.", "CAA"}, Case{"rr.pools.test.", "A"}}) {
        INFO(name << " " << type);
        auto result = dig(server.port(), {name, type});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK_FALSE(result.answer.empty());
        CHECK(result.authority.empty());
        CHECK(result.additional.empty());
    }
}

TEST_CASE("record types are served as written", "[dns][types]") {
    Dnsd server = start_one_worker();
    CHECK(texts(dig(server.port(), {"txt.static.test.", "TXT"}).answer) ==
          Texts{"txt.static.test. 300 IN TXT \"hello\"", "txt.static.test. 300 IN TXT \"two\" \"strings\"",
                "txt.static.test. 300 IN TXT \"with space\"", "txt.static.test. 300 IN TXT \"quote\\\"and\\\\backslash\""});
    CHECK(texts(dig(server.port(), {"ptr.static.test.", "PTR"}).answer) ==
          Texts{"ptr.static.test. 300 IN PTR www.static.test.", "ptr.static.test. 300 IN PTR mail.static.test."});
    CHECK(texts(dig(server.port(), {"caa.static.test.", "CAA"}).answer) ==
          Texts{"caa.static.test. 300 IN CAA 0 issue \"ca.example.net\"",
                "caa.static.test. 300 IN CAA 128 iodef \"mailto:security@static.test\""});
    CHECK(texts(dig(server.port(), {"static.test.", "SOA"}).answer) ==
          Texts{"static.test. 300 IN SOA ns1.static.test. hostmaster.static.test. 2024010101 3600 600 604800 60"});
    CHECK(texts(dig(server.port(), {"multi.static.test.", "AAAA"}).answer) ==
          Texts{"multi.static.test. 120 IN AAAA 2001:db8::11", "multi.static.test. 120 IN AAAA 2001:db8::12",
                "multi.static.test. 120 IN AAAA 2001:db8::13"});
}

TEST_CASE("ANY gets a minimal answer (RFC 8482)", "[dns][any]") {
    Dnsd server = start_one_worker();
    struct Case {
        const char* name;
        Texts data;  // every record at the name
    };
    for (const auto& [name, data] :
         {Case{"www.static.test.", {"www.static.test. 300 IN A 192.0.2.10", "www.static.test. 300 IN AAAA 2001:db8::10"}},
          Case{"multi.static.test.",
               {"multi.static.test. 120 IN A 192.0.2.11", "multi.static.test. 120 IN A 192.0.2.12",
                "multi.static.test. 120 IN A 192.0.2.13", "multi.static.test. 120 IN A 192.0.2.14",
                "multi.static.test. 120 IN AAAA 2001:db8::11", "multi.static.test. 120 IN AAAA 2001:db8::12",
                "multi.static.test. 120 IN AAAA 2001:db8::13"}}}) {
        INFO(name);
        auto result = dig(server.port(), {name, "ANY"});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK(result.has_flag("aa"));
        REQUIRE_FALSE(result.answer.empty());
        // One RRset: either a whole RRset of the name or a synthesised HINFO.
        const std::string type = result.answer.front().type;
        for (const auto& rr : result.answer) CHECK(rr.type == type);
        if (type != "HINFO") {
            Texts whole;
            for (const auto& text : data)
                if (text.find(" IN " + type + " ") != std::string::npos) whole.insert(text);
            CHECK(texts(result.answer) == whole);
        }
        CHECK(result.answer.size() < data.size());
    }
    CHECK(dig(server.port(), {"nothing.static.test.", "ANY"}).status == "NXDOMAIN");
}

TEST_CASE("AXFR and IXFR are REFUSED over UDP and TCP", "[dns][xfr]") {
    Dnsd server = start_one_worker();
    constexpr uint16_t axfr = 252, ixfr = 251;
    for (uint16_t type : {axfr, ixfr}) {
        INFO("type " << type);
        const Bytes query = make_query(0x0AF1, "static.test", type);
        Response over_udp = udp_response(server.port(), query);
        CHECK(over_udp.header.id == 0x0AF1);
        CHECK(over_udp.header.rcode() == rcode::refused);
        CHECK(over_udp.header.ancount == 0);

        TcpClient tcp("127.0.0.1", server.port("127.0.0.1", "tcp"));
        tcp.send_message(query);
        auto bytes = tcp.receive_message();
        REQUIRE(bytes);
        auto over_tcp = parse_response(*bytes);
        REQUIRE(over_tcp);
        CHECK(over_tcp->header.id == 0x0AF1);
        CHECK(over_tcp->header.rcode() == rcode::refused);
        CHECK(over_tcp->header.ancount == 0);
    }
}

TEST_CASE("opcodes other than QUERY get NOTIMP", "[dns][opcode]") {
    Dnsd server = start_one_worker();
    for (uint16_t opcode : {1, 2, 4, 5, 15}) {
        INFO("opcode " << opcode);
        Response response = udp_response(server.port(), make_query(0x0C0D, "www.static.test", rrtype::A,
                                                        static_cast<uint16_t>(opcode << 11 | flag_rd)));
        CHECK(response.header.id == 0x0C0D);
        CHECK(response.header.qr());
        CHECK(response.header.opcode() == opcode);
        CHECK(response.header.rd());
        CHECK(response.header.rcode() == rcode::notimp);
        CHECK(response.header.ancount == 0);
    }
    auto notify = dig(server.port(), {"static.test.", "SOA", "+opcode=notify"});
    CHECK(notify.opcode == "NOTIFY");
    CHECK(notify.status == "NOTIMP");
}

TEST_CASE("QDCOUNT other than 1 and malformed questions get FORMERR", "[dns][formerr]") {
    Dnsd server = start_one_worker();
    // Without a cookie: with one, no question asks for a server cookie (RFC 7873 §5.4).
    auto header_only = dig(server.port(), {"static.test.", "+header-only", "+nocookie"});
    REQUIRE(header_only.answered);
    CHECK(header_only.status == "FORMERR");

    const Bytes one = make_query(0xF0F0, "www.static.test", rrtype::A);
    Bytes none(one.begin(), one.begin() + 12);
    none[5] = 0;
    Bytes two = one;
    two[5] = 2;
    const Bytes second = question_of(make_query(0, "mail.static.test", rrtype::A));
    two.insert(two.end(), second.begin(), second.end());
    Bytes label_overrun = none;  // a 63-octet label with three octets present
    label_overrun[5] = 1;
    label_overrun.insert(label_overrun.end(), {63, 'w', 'w', 'w'});
    Bytes no_type(one.begin(), one.end() - 4);  // the name but not QTYPE/QCLASS
    Bytes pointer_loop = none;                   // a name that points at itself
    pointer_loop[5] = 1;
    pointer_loop.insert(pointer_loop.end(), {0xC0, 12, 0, 1, 0, 1});
    Bytes bad_label_type = none;  // 0x40: the reserved extended label type
    bad_label_type[5] = 1;
    bad_label_type.insert(bad_label_type.end(), {0x41, 'x', 0, 0, 1, 0, 1});

    struct Case {
        const char* what;
        const Bytes& packet;
    };
    for (const auto& [what, packet] : {Case{"QDCOUNT 0", none}, Case{"QDCOUNT 2", two},
                                       Case{"label past the end", label_overrun}, Case{"no QTYPE", no_type},
                                       Case{"pointer loop", pointer_loop}, Case{"bad label type", bad_label_type}}) {
        INFO(what);
        Response response = udp_response(server.port(), packet);
        CHECK(response.header.id == 0xF0F0);
        CHECK(response.header.qr());
        CHECK(response.header.rcode() == rcode::formerr);
        CHECK(response.header.ancount == 0);
    }
}

TEST_CASE("packets with QR set or shorter than a header are dropped", "[dns][drop]") {
    Dnsd server = start_one_worker();
    const Bytes query = make_query(0xD0D0, "www.static.test", rrtype::A);
    SECTION("QR set") { check_dropped(server, make_query(0xD0D0, "www.static.test", rrtype::A, flag_qr | flag_rd)); }
    SECTION("11 octets") { check_dropped(server, Bytes(query.begin(), query.begin() + 11)); }
    SECTION("2 octets") { check_dropped(server, Bytes(query.begin(), query.begin() + 2)); }
    SECTION("empty") { check_dropped(server, Bytes{}); }
}

TEST_CASE("c-ares resolves A and AAAA", "[dns][c-ares]") {
    Dnsd server = start_one_worker();
    auto v4 = ares_lookup(server.port(), "www.static.test", rrtype::A);
    CHECK(v4.status == 0);
    CHECK(v4.addresses == std::vector<std::string>{"192.0.2.10"});
    auto v6 = ares_lookup(server.port(), "www.static.test", rrtype::AAAA);
    CHECK(v6.status == 0);
    CHECK(v6.addresses == std::vector<std::string>{"2001:db8::10"});
    auto through_cname = ares_lookup(server.port(), "alias.static.test", rrtype::A);
    CHECK(through_cname.status == 0);
    CHECK(through_cname.addresses == std::vector<std::string>{"192.0.2.10"});
    auto multi = ares_lookup(server.port(), "multi.static.test", rrtype::A);
    CHECK(Texts(multi.addresses.begin(), multi.addresses.end()) ==
          Texts{"192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"});
    auto pool = ares_lookup(server.port(), "rr.pools.test", rrtype::AAAA);
    CHECK(Texts(pool.addresses.begin(), pool.addresses.end()) == Texts{"2001:db8::21", "2001:db8::22", "2001:db8::23"});
    auto missing = ares_lookup(server.port(), "nothing.static.test", rrtype::A);
    CHECK(missing.status != 0);
    CHECK(missing.addresses.empty());
    REQUIRE(missing.answer.size() >= 12);
    CHECK((missing.answer[3] & 0x0F) == rcode::nxdomain);
}

TEST_CASE("the server answers on IPv6 loopback too", "[dns][header]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port("::1"), {"www.static.test.", "AAAA"}, "::1");
    REQUIRE(result.answered);
    CHECK(texts(result.answer) == Texts{"www.static.test. 300 IN AAAA 2001:db8::10"});
}

}  // namespace dnsd::e2e
