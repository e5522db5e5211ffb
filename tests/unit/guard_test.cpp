// guard: SipHash-2-4, RFC 9018 server cookies against the RFC's own
// examples, and RRL's accounting with the clock pinned.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dnsd/guard/cookie.hpp"
#include "dnsd/guard/rrl.hpp"
#include "dnsd/guard/siphash.hpp"

using namespace dnsd;

namespace {

std::vector<uint8_t> from_hex(std::string_view hex) {
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return bytes;
}

std::string to_hex(std::span<const uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

core::Address ip(const char* text) { return *core::Address::parse(text); }

guard::CookieSecret secret(std::string_view hex) { return *guard::parse_secret(hex); }

// A query's COOKIE option as the parser leaves it.
wire::Cookie cookie_of(std::string_view hex) {
    const std::vector<uint8_t> bytes = from_hex(hex);
    wire::Cookie cookie;
    std::copy_n(bytes.begin(), 8, cookie.client.begin());
    std::copy(bytes.begin() + 8, bytes.end(), cookie.server.begin());
    cookie.server_size = static_cast<uint8_t>(bytes.size() - 8);
    return cookie;
}

// The COOKIE option a server with `secrets` answers `query` from `client` with at `now`.
std::string answer(std::string_view query, const char* client, uint32_t now, const guard::CookieSecrets& secrets) {
    return to_hex(guard::answer_cookie(cookie_of(query), ip(client), now, secrets));
}

}  // namespace

TEST_CASE("siphash24 matches the reference implementation's vectors", "[guard]") {
    // Key 00..0f; message 00..(n-1): vectors.h of the SipHash reference code.
    guard::SipKey key;
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
    std::vector<uint8_t> message;
    CHECK(guard::siphash24(message, key) == 0x726fdb47dd0e0e31ull);
    for (uint8_t i = 0; i < 15; ++i) message.push_back(i);
    CHECK(guard::siphash24(message, key) == 0xa129ca6149be45e5ull);  // the paper's example (Appendix A)
    message.push_back(15);
    CHECK(guard::siphash24(message, key) == 0x3f2acc7f57c29bdbull);  // two whole words, then the length
}

TEST_CASE("server cookies follow RFC 9018 Appendix A byte for byte", "[guard]") {
    const guard::CookieSecrets secrets{secret("e5e973e5a6b2a43f48e7dc849e37bfcf"), std::nullopt};
    SECTION("A.1: learning a new server cookie") {
        CHECK(answer("2464c4abcf10c957", "198.51.100.100", 1559731985, secrets) ==
              "2464c4abcf10c957010000005cf79f111f8130c3eee29480");
    }
    SECTION("A.2: the cookie is valid 40 minutes later and a fresh one is issued") {
        const wire::Cookie sent = cookie_of("2464c4abcf10c957010000005cf79f111f8130c3eee29480");
        CHECK(guard::valid_server_cookie(sent, ip("198.51.100.100"), 1559734385, secrets));
        CHECK(answer("2464c4abcf10c957010000005cf79f111f8130c3eee29480", "198.51.100.100", 1559734385, secrets) ==
              "2464c4abcf10c957010000005cf7a871d4a564a1442aca77");
    }
    SECTION("A.3: reserved octets are hashed as sent; the fresh cookie has them zero") {
        const wire::Cookie sent = cookie_of("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5");
        // Issued at 1559727985; within our hour it checks, after it not.
        CHECK(guard::valid_server_cookie(sent, ip("203.0.113.203"), 1559727985 + 60, secrets));
        CHECK_FALSE(guard::valid_server_cookie(sent, ip("203.0.113.203"), 1559734700, secrets));
        CHECK(answer("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "203.0.113.203", 1559734700, secrets) ==
              "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e");
    }
    SECTION("A.4: IPv6, a cookie of the previous secret is accepted and answered with the new one") {
        const guard::CookieSecrets rotated{secret("445536bcd2513298075a5d379663c962"),
                                           secret("dd3bdf9344b678b185a6f5cb60fca715")};
        const char* client = "2001:db8:220:1:59de:d0f4:8769:82b8";
        const wire::Cookie sent = cookie_of("22681ab97d52c298010000005cf7c57926556bd0934c72f8");
        CHECK(guard::valid_server_cookie(sent, ip(client), 1559741961, rotated));
        CHECK_FALSE(guard::valid_server_cookie(sent, ip(client), 1559741961,
                                               {rotated.current, std::nullopt}));  // rotation over
        CHECK(answer("22681ab97d52c298010000005cf7c57926556bd0934c72f8", client, 1559741961, rotated) ==
              "22681ab97d52c298010000005cf7c609a6bb79d16625507a");
    }
}

TEST_CASE("a server cookie is valid for an hour, for its client, under its secret only", "[guard]") {
    const guard::CookieSecrets secrets{secret("00112233445566778899aabbccddeeff"), std::nullopt};
    const uint32_t issued = 1700000000;
    const std::string option = answer("0102030405060708", "192.0.2.1", issued, secrets);
    const wire::Cookie sent = cookie_of(option);
    CHECK(guard::valid_server_cookie(sent, ip("192.0.2.1"), issued, secrets));
    CHECK(guard::valid_server_cookie(sent, ip("192.0.2.1"), issued + guard::cookie_lifetime_s, secrets));
    CHECK_FALSE(guard::valid_server_cookie(sent, ip("192.0.2.1"), issued + guard::cookie_lifetime_s + 1, secrets));
    CHECK(guard::valid_server_cookie(sent, ip("192.0.2.1"), issued - guard::cookie_clock_skew_s, secrets));
    CHECK_FALSE(guard::valid_server_cookie(sent, ip("192.0.2.1"), issued - guard::cookie_clock_skew_s - 1, secrets));
    CHECK_FALSE(guard::valid_server_cookie(sent, ip("192.0.2.2"), issued, secrets));  // another client
    CHECK_FALSE(guard::valid_server_cookie(sent, ip("192.0.2.1"), issued,
                                           {secret("ffeeddccbbaa99887766554433221100"), std::nullopt}));
    wire::Cookie forged = sent;
    forged.server[15] ^= 1;
    CHECK_FALSE(guard::valid_server_cookie(forged, ip("192.0.2.1"), issued, secrets));
    wire::Cookie other_version = sent;
    other_version.server[0] = 2;
    CHECK_FALSE(guard::valid_server_cookie(other_version, ip("192.0.2.1"), issued, secrets));
    CHECK_FALSE(guard::valid_server_cookie(cookie_of("0102030405060708"), ip("192.0.2.1"), issued, secrets));
}

TEST_CASE("parse_secret takes exactly 32 hex digits", "[guard]") {
    CHECK(guard::parse_secret("E5E973E5A6B2A43F48E7DC849E37BFCF") == guard::parse_secret("e5e973e5a6b2a43f48e7dc849e37bfcf"));
    CHECK_FALSE(guard::parse_secret("e5e973e5a6b2a43f48e7dc849e37bfc"));
    CHECK_FALSE(guard::parse_secret("e5e973e5a6b2a43f48e7dc849e37bfcf0"));
    CHECK_FALSE(guard::parse_secret("g5e973e5a6b2a43f48e7dc849e37bfcf"));
}

namespace {

const std::string www{"\3www\4demo\7example\0", 18};
const std::string api{"\3api\4demo\7example\0", 18};

guard::RrlSettings settings(uint32_t rate, uint32_t slip) {
    guard::RrlSettings s;
    s.responses_per_second = rate;
    s.slip = slip;
    return s;
}

struct Tally {
    size_t pass = 0, drop = 0, slip = 0;
};

Tally send(guard::Rrl& rrl, size_t count, const char* client, const std::string& name, uint32_t now,
           uint16_t qtype = 1, uint8_t rcode = 0) {
    Tally tally;
    for (size_t i = 0; i < count; ++i) {
        switch (rrl.account(ip(client), name, qtype, rcode, now)) {
        case guard::Verdict::pass: ++tally.pass; break;
        case guard::Verdict::drop: ++tally.drop; break;
        case guard::Verdict::slip: ++tally.slip; break;
        }
    }
    return tally;
}

}  // namespace

TEST_CASE("RRL passes the rate per second, then drops and slips in the configured ratio", "[guard][rrl]") {
    guard::Rrl rrl(settings(10, 3), 42);
    const uint32_t now = 1000;
    const Tally first = send(rrl, 40, "192.0.2.1", www, now);
    CHECK(first.pass == 10);
    CHECK(first.slip == 10);  // every third of the 30 over the limit
    CHECK(first.drop == 20);
    // The next second starts afresh.
    CHECK(send(rrl, 10, "192.0.2.1", www, now + 1).pass == 10);
    CHECK(send(rrl, 1, "192.0.2.1", www, now + 1).pass == 0);
}

TEST_CASE("RRL slip 0 drops all, slip 1 truncates all", "[guard][rrl]") {
    guard::Rrl none(settings(5, 0), 1);
    const Tally a = send(none, 20, "192.0.2.1", www, 7);
    CHECK((a.pass == 5 && a.drop == 15 && a.slip == 0));
    guard::Rrl all(settings(5, 1), 1);
    const Tally b = send(all, 20, "192.0.2.1", www, 7);
    CHECK((b.pass == 5 && b.drop == 0 && b.slip == 15));
}

TEST_CASE("RRL counts per network, name, type and rcode", "[guard][rrl]") {
    guard::Rrl rrl(settings(5, 0), 3);
    const uint32_t now = 50;
    CHECK(send(rrl, 10, "192.0.2.1", www, now).pass == 5);
    // The same /24: the same network, already over.
    CHECK(send(rrl, 1, "192.0.2.200", www, now).pass == 0);
    // Another /24, another name, type or rcode: counted on its own.
    CHECK(send(rrl, 5, "192.0.3.1", www, now).pass == 5);
    CHECK(send(rrl, 5, "192.0.2.1", api, now).pass == 5);
    CHECK(send(rrl, 5, "192.0.2.1", www, now, 28).pass == 5);
    CHECK(send(rrl, 5, "192.0.2.1", www, now, 1, 3).pass == 5);
    // IPv6 by /56.
    CHECK(send(rrl, 10, "2001:db8:0:100::1", www, now).pass == 5);
    CHECK(send(rrl, 1, "2001:db8:0:1ff::2", www, now).pass == 0);
    CHECK(send(rrl, 5, "2001:db8:0:200::1", www, now).pass == 5);
}

TEST_CASE("RRL exempts the configured networks", "[guard][rrl]") {
    guard::RrlSettings s = settings(5, 2);
    s.exempt.push_back({ip("10.0.0.0"), 8});
    guard::Rrl rrl(s, 9);
    CHECK(rrl.exempt(ip("10.1.2.3")));
    CHECK_FALSE(rrl.exempt(ip("11.1.2.3")));
    CHECK_FALSE(rrl.exempt(ip("2001:db8::1")));
}

TEST_CASE("RRL holds a network over the limit while many others come and go", "[guard][rrl]") {
    guard::Rrl rrl(settings(20, 0), 11);
    const uint32_t now = 300;
    CHECK(send(rrl, 100, "198.51.100.7", www, now).pass == 20);
    // A million other networks, one response each, in the same second: more
    // than the table holds, so words are taken over all the time, yet never
    // the one counting 100.
    for (uint32_t i = 0; i < 1000000; ++i) {
        core::Address other;
        other.bytes = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
        rrl.account(other.masked(32), www, 1, 0, now);
    }
    CHECK(send(rrl, 1, "198.51.100.7", www, now).pass == 0);
}

TEST_CASE("RRL keeps 100,000 client networks apart in one second", "[guard][rrl]") {
    guard::Rrl rrl(settings(2, 0), 5);
    const uint32_t now = 400;
    auto network = [](uint32_t i) {
        core::Address a;
        a.bytes = {static_cast<uint8_t>(1 + (i >> 16)), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 1};
        return a;
    };
    for (uint32_t i = 0; i < 100000; ++i) rrl.account(network(i), www, 1, 0, now);
    for (uint32_t i = 0; i < 100000; ++i) rrl.account(network(i), www, 1, 0, now);
    // Each network has had its 2; a third is over the limit for every one
    // the table kept, which must be all of them.
    size_t limited = 0;
    for (uint32_t i = 0; i < 100000; ++i)
        if (rrl.account(network(i), www, 1, 0, now) == guard::Verdict::drop) ++limited;
    CHECK(limited == 100000);
}

TEST_CASE("RRL's sweep reports networks that start and stop being limited", "[guard][rrl]") {
    guard::Rrl rrl(settings(1, 0), 13);
    std::vector<guard::LimitChange> changes;
    rrl.sweep(100, changes);
    CHECK(changes.empty());
    CHECK(rrl.limited_networks() == 0);

    send(rrl, 3, "192.0.2.9", www, 100);
    send(rrl, 3, "2001:db8:aa:bb::1", www, 100);
    rrl.sweep(100, changes);
    REQUIRE(changes.size() == 2);
    std::vector<std::string> started;
    for (const auto& change : changes) {
        CHECK(change.started);
        started.push_back(change.network.to_string() + "/" + std::to_string(change.prefix));
    }
    std::sort(started.begin(), started.end());
    CHECK(started == std::vector<std::string>{"192.0.2.0/24", "2001:db8:aa::/56"});
    CHECK(rrl.limited_networks() == 2);

    // Still limited a second later: no news.
    changes.clear();
    send(rrl, 3, "192.0.2.9", www, 101);
    rrl.sweep(101, changes);
    CHECK(changes.empty());
    CHECK(rrl.limited_networks() == 2);

    // The IPv6 network has been quiet for 2 s, the IPv4 one for 1 s.
    rrl.sweep(102, changes);
    REQUIRE(changes.size() == 1);
    CHECK_FALSE(changes[0].started);
    CHECK(changes[0].network.to_string() == "2001:db8:aa::");
    CHECK(rrl.limited_networks() == 1);
    changes.clear();
    rrl.sweep(103, changes);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].network.to_string() == "192.0.2.0");
    CHECK(rrl.limited_networks() == 0);
}
