// SPEC §7 EDNS(0), NSID, ECS and truncation against the real binary.
#include <catch2/catch.hpp>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

constexpr uint16_t option_nsid = 3, option_ecs = 8;

// The option codes present in an OPT's option area.
std::vector<uint16_t> option_codes(const Bytes& options) {
    std::vector<uint16_t> codes;
    for (size_t at = 0; at + 4 <= options.size();) {
        codes.push_back(static_cast<uint16_t>(options[at] << 8 | options[at + 1]));
        at += 4 + static_cast<size_t>(options[at + 2] << 8 | options[at + 3]);
    }
    return codes;
}

}  // namespace

TEST_CASE("an OPT in the query gets an OPT back advertising udp_payload", "[edns]") {
    SECTION("default 1232") {
        Dnsd server = start_one_worker();
        auto result = dig(server.port(), {"www.static.test.", "A", "+bufsize=4096"});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK(result.edns);
        CHECK(result.edns_version == 0);
        CHECK(result.udp_payload == 1232);
    }
    SECTION("configured") {
        Dnsd server = start_one_worker(R"({"udp_payload": 1400})");
        auto result = dig(server.port(), {"www.static.test.", "A"});
        CHECK(result.edns);
        CHECK(result.udp_payload == 1400);
        // Also on negative answers and referrals.
        CHECK(dig(server.port(), {"nothing.static.test.", "A"}).udp_payload == 1400);
        CHECK(dig(server.port(), {"www.sub.static.test.", "A"}).udp_payload == 1400);
    }
}

TEST_CASE("a query without OPT gets no OPT", "[edns]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"www.static.test.", "A", "+noedns"});
    REQUIRE(result.answered);
    CHECK(result.status == "NOERROR");
    CHECK_FALSE(result.edns);
    Response raw = udp_response(server.port(), make_query(1, "www.static.test", rrtype::A));
    CHECK(raw.opt_count == 0);
    CHECK(raw.header.arcount == 0);
}

TEST_CASE("EDNS version 1 gets BADVERS", "[edns]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"www.static.test.", "A", "+edns=1", "+noednsnegotiation"});
    REQUIRE(result.answered);
    CHECK(result.status == "BADVERS");
    CHECK(result.edns);
    CHECK(result.edns_version == 0);
    CHECK(result.answer.empty());

    Bytes query = make_query(0xBAD, "www.static.test", rrtype::A);
    add_opt(query, 1232, 1);
    Response raw = udp_response(server.port(), query);
    CHECK(raw.header.id == 0xBAD);
    REQUIRE(raw.opt);
    // BADVERS is 16: upper eight bits 1 in the OPT, lower four 0 in the header.
    CHECK(raw.opt->extended_rcode == 1);
    CHECK(raw.opt->version == 0);
    CHECK(raw.header.rcode() == 0);
    CHECK(raw.header.ancount == 0);
}

TEST_CASE("two OPT records get FORMERR", "[edns]") {
    Dnsd server = start_one_worker();
    Bytes query = make_query(0x2097, "www.static.test", rrtype::A);
    add_opt(query, 1232);
    add_opt(query, 1232);
    Response raw = udp_response(server.port(), query);
    CHECK(raw.header.id == 0x2097);
    CHECK(raw.header.rcode() == rcode::formerr);
    CHECK(raw.header.ancount == 0);
}

TEST_CASE("an EDNS payload under 512 counts as 512", "[edns][tc]") {
    Dnsd server = start_one_worker();
    // multi A with OPT is 110 octets: over 100, under 512.
    for (const char* bufsize : {"+bufsize=100", "+bufsize=0"}) {
        INFO(bufsize);
        auto small = dig(server.port(), {"multi.static.test.", "A", bufsize, "+ignore"});
        REQUIRE(small.answered);
        CHECK_FALSE(small.has_flag("tc"));
        CHECK(small.answer.size() == 4);
    }
    // big A (40 records) is over 512 octets: truncated at that payload.
    auto big = dig(server.port(), {"big.static.test.", "A", "+bufsize=100", "+ignore"});
    REQUIRE(big.answered);
    CHECK(big.has_flag("tc"));
    CHECK(big.answer.size() < 40);
}

TEST_CASE("NSID is answered with the configured text when asked for", "[edns][nsid]") {
    Dnsd server = start_one_worker(R"({"nsid": "e2e-node-1"})");
    auto asked = dig(server.port(), {"www.static.test.", "A", "+nsid"});
    REQUIRE(asked.answered);
    CHECK(asked.status == "NOERROR");
    CHECK(asked.nsid == std::optional<std::string>("e2e-node-1"));
    CHECK(kdig(server.port(), {"www.static.test.", "A", "+nsid"}).nsid == std::optional<std::string>("e2e-node-1"));

    auto not_asked = dig(server.port(), {"www.static.test.", "A"});
    CHECK(not_asked.edns);
    CHECK_FALSE(not_asked.nsid);
}

TEST_CASE("NSID is absent when not configured", "[edns][nsid]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"www.static.test.", "A", "+nsid"});
    REQUIRE(result.answered);
    CHECK(result.status == "NOERROR");
    CHECK(result.edns);
    CHECK_FALSE(result.nsid);

    Bytes query = make_query(3, "www.static.test", rrtype::A);
    add_opt(query, 1232, 0, edns_option(option_nsid, {}));
    Response raw = udp_response(server.port(), query);
    REQUIRE(raw.opt);
    CHECK(option_codes(raw.opt->options).empty());
}

TEST_CASE("unknown EDNS options are ignored", "[edns]") {
    Dnsd server = start_one_worker();
    auto result = dig(server.port(), {"www.static.test.", "A", "+ednsopt=65001:deadbeef"});
    REQUIRE(result.answered);
    CHECK(result.status == "NOERROR");
    CHECK(texts(result.answer) == std::set<std::string>{"www.static.test. 300 IN A 192.0.2.10"});

    Bytes query = make_query(4, "www.static.test", rrtype::A);
    add_opt(query, 1232, 0, edns_option(65001, {1, 2, 3}));
    Response raw = udp_response(server.port(), query);
    CHECK(raw.header.rcode() == rcode::noerror);
    CHECK(raw.answer_addresses == std::vector<std::string>{"192.0.2.10"});
    REQUIRE(raw.opt);
    CHECK(option_codes(raw.opt->options).empty());
}

TEST_CASE("ECS is echoed with scope 0 for answers that do not depend on the client", "[edns][ecs]") {
    Dnsd server = start_one_worker();
    struct Case {
        const char* name;
        const char* subnet;
        const char* echoed;
    };
    for (auto [name, subnet, echoed] :
         {Case{"rr.pools.test.", "198.51.100.0/24", "198.51.100.0/24/0"},
          Case{"rr.pools.test.", "2001:db8:42::/48", "2001:db8:42::/48/0"},
          Case{"www.static.test.", "192.0.2.0/24", "192.0.2.0/24/0"}}) {
        INFO(name << " " << subnet);
        auto result = dig(server.port(), {name, "A", std::string("+subnet=") + subnet});
        REQUIRE(result.answered);
        CHECK(result.status == "NOERROR");
        CHECK_FALSE(result.answer.empty());
        CHECK(result.client_subnet == std::optional<std::string>(echoed));
    }
    // No ECS in the query: none in the response.
    CHECK_FALSE(dig(server.port(), {"rr.pools.test.", "A"}).client_subnet);
}

TEST_CASE("a malformed ECS option gets FORMERR", "[edns][ecs]") {
    Dnsd server = start_one_worker();
    struct Case {
        const char* what;
        Bytes data;
    };
    for (const auto& [what, data] : {
             Case{"shorter than its fixed part", {0, 1}},
             Case{"more address octets than the prefix needs", {0, 1, 16, 0, 198, 51, 100, 0}},
             Case{"IPv4 source prefix over 32", {0, 1, 33, 0, 198, 51, 100, 1, 0}},
             Case{"IPv6 source prefix over 128", {0, 2, 129, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
         }) {
        INFO(what);
        Bytes query = make_query(0xEC5, "rr.pools.test", rrtype::A);
        add_opt(query, 1232, 0, edns_option(option_ecs, data));
        Response raw = udp_response(server.port(), query);
        CHECK(raw.header.id == 0xEC5);
        CHECK(raw.header.rcode() == rcode::formerr);
        CHECK(raw.header.ancount == 0);
    }
    auto from_dig = dig(server.port(), {"rr.pools.test.", "A", "+ednsopt=8:0001"});
    REQUIRE(from_dig.answered);
    CHECK(from_dig.status == "FORMERR");
}

TEST_CASE("an answer too large for UDP is truncated, over TCP it comes whole", "[tc]") {
    Dnsd server = start_one_worker();
    // Without EDNS the limit is 512: 40 A records do not fit.
    auto truncated = dig(server.port(), {"big.static.test.", "A", "+noedns", "+ignore"});
    REQUIRE(truncated.answered);
    CHECK(truncated.status == "NOERROR");
    CHECK(truncated.has_flag("tc"));
    CHECK(truncated.answer.size() < 40);
    auto whole = dig(server.port(), {"big.static.test.", "A", "+noedns", "+tcp"});
    CHECK_FALSE(whole.has_flag("tc"));
    CHECK(whole.answer.size() == 40);
    // With EDNS at 1232 they fit.
    auto fits = dig(server.port(), {"big.static.test.", "A", "+ignore"});
    CHECK_FALSE(fits.has_flag("tc"));
    CHECK(fits.answer.size() == 40);

    // 30 long TXT records do not fit in 1232 either.
    auto txt_udp = dig(server.port(), {"bigtxt.static.test.", "TXT", "+ignore"});
    CHECK(txt_udp.has_flag("tc"));
    CHECK(txt_udp.answer.size() < 30);
    auto txt_tcp = dig(server.port(), {"bigtxt.static.test.", "TXT", "+tcp"});
    CHECK_FALSE(txt_tcp.has_flag("tc"));
    CHECK(txt_tcp.answer.size() == 30);
    // dig retries a truncated answer over TCP by itself.
    auto retried = dig(server.port(), {"bigtxt.static.test.", "TXT"});
    CHECK_FALSE(retried.has_flag("tc"));
    CHECK(retried.answer.size() == 30);
}

TEST_CASE("a truncated UDP answer fits the client's limit", "[tc]") {
    Dnsd server = start_one_worker();
    auto plain = udp_exchange(server.port(), make_query(5, "big.static.test", rrtype::A));
    REQUIRE(plain);
    CHECK(plain->size() <= 512);
    auto header = parse_response(*plain);
    REQUIRE(header);
    CHECK(header->header.tc());

    Bytes query = make_query(6, "bigtxt.static.test", rrtype::TXT);
    add_opt(query, 1232);
    auto with_edns = udp_exchange(server.port(), query);
    REQUIRE(with_edns);
    CHECK(with_edns->size() <= 1232);
    auto parsed = parse_response(*with_edns);
    REQUIRE(parsed);
    CHECK(parsed->header.tc());
    CHECK(parsed->opt_count == 1);
}

}  // namespace dnsd::e2e
