// SPEC §4's policies as seen on the wire (tests/data/e2e/zones/pools.test.json):
// rotation, weights, stickiness, priority, max_answers, TTLs and drained members.
// Servers run one worker so that "consecutive queries on one worker" holds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

using Addresses = std::vector<std::string>;

// The A/AAAA rdata of the answer section, in order.
Addresses addresses(const DigResult& result) {
    Addresses out;
    for (const auto& rr : result.answer)
        if (rr.type == "A" || rr.type == "AAAA") out.push_back(rr.rdata);
    return out;
}

Addresses ask(const Dnsd& server, const std::string& name, const char* type, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{name, type};
    args.insert(args.end(), extra.begin(), extra.end());
    DigResult result = dig(server.port(), args);
    INFO(result.output);
    REQUIRE(result.answered);
    REQUIRE(result.status == "NOERROR");
    return addresses(result);
}

// N consecutive answers for a list of N in file order: each is the list rotated,
// and each member comes first exactly once.
void check_round_robin(const std::vector<Addresses>& answers, const Addresses& members) {
    std::map<std::string, int> first;
    for (const auto& answer : answers) {
        INFO("answer: " << Catch::Detail::stringify(answer));
        REQUIRE(answer.size() == members.size());
        auto start = std::find(members.begin(), members.end(), answer.front());
        REQUIRE(start != members.end());
        Addresses rotated(start, members.end());
        rotated.insert(rotated.end(), members.begin(), start);
        CHECK(answer == rotated);
        ++first[answer.front()];
    }
    for (const auto& member : members) CHECK(first[member] == static_cast<int>(answers.size() / members.size()));
}

Bytes ecs_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t source_prefix) {
    Bytes data{0, 1, source_prefix, 0, a, b, c, d};
    data.resize(4 + (source_prefix + 7) / 8);
    return edns_option(8, data);
}

}  // namespace

TEST_CASE("round-robin: N consecutive queries put each of N members first exactly once", "[pool][round-robin]") {
    Dnsd server = start_one_worker();
    const Addresses v4{"192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24"};
    std::vector<Addresses> over_c_ares;
    for (int i = 0; i < 8; ++i) {
        auto result = ares_lookup(server.port(), "rr.pools.test", rrtype::A);
        REQUIRE(result.status == 0);
        over_c_ares.push_back(result.addresses);
    }
    check_round_robin(over_c_ares, v4);

    const Addresses v6{"2001:db8::21", "2001:db8::22", "2001:db8::23"};
    std::vector<Addresses> over_dig;
    for (int i = 0; i < 3; ++i) over_dig.push_back(ask(server, "rr.pools.test.", "AAAA"));
    check_round_robin(over_dig, v6);
}

TEST_CASE("static multi-record RRsets rotate the same way", "[pool][round-robin]") {
    Dnsd server = start_one_worker();
    const Addresses v4{"192.0.2.71", "192.0.2.72", "192.0.2.73", "192.0.2.74"};
    UdpClient client("127.0.0.1", server.port());
    std::vector<Addresses> answers;
    for (uint16_t id = 0; id < 4; ++id) {
        client.send(make_query(id, "static-rr.pools.test", rrtype::A));
        auto bytes = client.receive();
        REQUIRE(bytes);
        auto response = parse_response(*bytes);
        REQUIRE(response);
        answers.push_back(response->answer_addresses);
    }
    check_round_robin(answers, v4);

    const Addresses v6{"2001:db8::71", "2001:db8::72", "2001:db8::73"};
    std::vector<Addresses> over_dig;
    for (int i = 0; i < 6; ++i) over_dig.push_back(ask(server, "static-rr.pools.test.", "AAAA"));
    check_round_robin(over_dig, v6);
}

TEST_CASE("weighted: first place goes to members in proportion to weight, weight 0 never leads", "[pool][weighted]") {
    Dnsd server = start_one_worker();
    UdpClient client("127.0.0.1", server.port());
    constexpr int queries = 400;
    std::map<std::string, int> first;
    for (int i = 0; i < queries; ++i) {
        client.send(make_query(static_cast<uint16_t>(i), "weighted.pools.test", rrtype::A));
        auto bytes = client.receive();
        REQUIRE(bytes);
        auto response = parse_response(*bytes);
        REQUIRE(response);
        const auto& answer = response->answer_addresses;
        REQUIRE_FALSE(answer.empty());
        // Both members with weight are eligible, so both are in every answer.
        CHECK(std::count(answer.begin(), answer.end(), "192.0.2.31") == 1);
        CHECK(std::count(answer.begin(), answer.end(), "192.0.2.32") == 1);
        ++first[answer.front()];
    }
    // Weights 1 and 3: expected 100 and 300 (standard deviation 8.7); the
    // bounds are seven deviations wide.
    INFO("first places: .31 " << first["192.0.2.31"] << ", .32 " << first["192.0.2.32"] << ", .33 "
                              << first["192.0.2.33"]);
    CHECK(first["192.0.2.33"] == 0);
    CHECK(first["192.0.2.31"] >= 40);
    CHECK(first["192.0.2.31"] <= 160);
    CHECK(first["192.0.2.32"] >= 240);
    CHECK(first["192.0.2.32"] <= 360);
}

TEST_CASE("sticky: one /24 gets one order, across queries and across restarts", "[pool][sticky]") {
    const Texts members{"192.0.2.41", "192.0.2.42", "192.0.2.43", "192.0.2.44", "192.0.2.45"};
    constexpr int subnets = 20;
    std::vector<Addresses> orders;
    {
        Dnsd server = start_one_worker();
        for (int i = 0; i < subnets; ++i) {
            const std::string net = "203.0." + std::to_string(i * 11) + ".";
            const Addresses order = ask(server, "sticky.pools.test.", "A", {"+subnet=" + net + "0/24"});
            CHECK(Texts(order.begin(), order.end()) == members);
            // Other clients in the same /24, and the same client again, get the same order.
            for (const char* host : {"1", "77", "254"})
                CHECK(ask(server, "sticky.pools.test.", "A", {"+subnet=" + net + host + "/32"}) == order);
            CHECK(ask(server, "sticky.pools.test.", "A", {"+subnet=" + net + "0/24"}) == order);
            orders.push_back(order);
        }
    }
    // Rendezvous hashing spreads clients: 20 subnets over 5 members land on at
    // least 3 of them (all on 2 or fewer has a probability near 1e-7).
    Texts firsts;
    for (const auto& order : orders) firsts.insert(order.front());
    CHECK(firsts.size() >= 3);

    // A new process computes the same orders.
    Dnsd restarted = start_one_worker();
    for (int i = 0; i < subnets; ++i) {
        const std::string net = "203.0." + std::to_string(i * 11) + ".";
        CHECK(ask(restarted, "sticky.pools.test.", "A", {"+subnet=" + net + "9/32"}) == orders[static_cast<size_t>(i)]);
    }
}

TEST_CASE("sticky: IPv6 clients stick per /56", "[pool][sticky]") {
    Dnsd server = start_one_worker();
    std::vector<Addresses> orders;
    for (int i = 0; i < 16; ++i) {
        char net[64];
        std::snprintf(net, sizeof net, "2001:db8:%x:%x", 0x100 + i * 7, i * 0x100);
        const Addresses order = ask(server, "sticky.pools.test.", "AAAA", {"+subnet=" + std::string(net) + "::/56"});
        CHECK(order.size() == 3);
        std::snprintf(net, sizeof net, "2001:db8:%x:%x", 0x100 + i * 7, i * 0x100 + 0x42);
        CHECK(ask(server, "sticky.pools.test.", "AAAA", {"+subnet=" + std::string(net) + "::1/128"}) == order);
        orders.push_back(order);
    }
    Texts firsts;
    for (const auto& order : orders) firsts.insert(order.front());
    CHECK(firsts.size() >= 2);
}

TEST_CASE("sticky: the ECS scope is 24 for IPv4 (SPEC §4.7)", "[pool][sticky][ecs]") {
    Dnsd server = start_one_worker();
    auto wide = dig(server.port(), {"sticky.pools.test.", "A", "+subnet=198.51.100.0/24"});
    CHECK(wide.client_subnet == std::optional<std::string>("198.51.100.0/24/24"));
    auto narrow = dig(server.port(), {"sticky.pools.test.", "A", "+subnet=198.51.100.9/32"});
    CHECK(narrow.client_subnet == std::optional<std::string>("198.51.100.9/32/24"));
    // The scope is capped at the source prefix.
    auto capped = dig(server.port(), {"sticky.pools.test.", "A", "+subnet=198.51.0.0/16"});
    CHECK(capped.client_subnet == std::optional<std::string>("198.51.0.0/16/16"));
}

TEST_CASE("sticky: the packet's source is the client without ECS", "[pool][sticky]") {
    Dnsd server = start_one_worker();
    // Every query comes from 127.0.0.1: one order, and it is the order of an
    // ECS query for 127.0.0.0/24.
    const Addresses order = ask(server, "sticky.pools.test.", "A");
    for (int i = 0; i < 5; ++i) CHECK(ask(server, "sticky.pools.test.", "A") == order);
    Bytes query = make_query(9, "sticky.pools.test", rrtype::A);
    add_opt(query, 1232, 0, ecs_v4(127, 0, 0, 0, 24));
    auto bytes = udp_exchange(server.port(), query);
    REQUIRE(bytes);
    auto response = parse_response(*bytes);
    REQUIRE(response);
    CHECK(response->answer_addresses == order);
}

TEST_CASE("priority: only the lowest priority group answers, round-robin within it", "[pool][priority]") {
    Dnsd server = start_one_worker();
    std::vector<Addresses> answers;
    for (int i = 0; i < 4; ++i) answers.push_back(ask(server, "priority.pools.test.", "A"));
    // Group 1 in file order is .51, .52.
    check_round_robin(answers, {"192.0.2.51", "192.0.2.52"});
    // IPv6: priority 3 beats 5.
    CHECK(ask(server, "priority.pools.test.", "AAAA") == Addresses{"2001:db8::51"});
}

TEST_CASE("max_answers keeps the first N of the rotated list", "[pool][max-answers]") {
    Dnsd server = start_one_worker();
    const Addresses members{"192.0.2.61", "192.0.2.62", "192.0.2.63", "192.0.2.64", "192.0.2.65"};
    Texts firsts;
    for (int i = 0; i < 5; ++i) {
        const Addresses answer = ask(server, "capped.pools.test.", "A");
        REQUIRE(answer.size() == 2);
        // Two neighbours in the rotated list.
        auto at = std::find(members.begin(), members.end(), answer[0]);
        REQUIRE(at != members.end());
        CHECK(answer[1] == members[static_cast<size_t>(at - members.begin() + 1) % members.size()]);
        firsts.insert(answer[0]);
    }
    CHECK(firsts.size() == 5);
}

TEST_CASE("TTL resolves record, then pool, then zone", "[pool][ttl]") {
    Dnsd server = start_one_worker();
    struct Case {
        const char* name;
        const char* type;
        uint32_t ttl;
    };
    for (auto [name, type, ttl] : {Case{"ttl-record.pools.test.", "A", 7}, Case{"ttl-record.pools.test.", "AAAA", 7},
                                   Case{"ttl-pool.pools.test.", "A", 15}, Case{"ttl-pool.pools.test.", "AAAA", 15},
                                   Case{"ttl-zone.pools.test.", "A", 45}, Case{"rr.pools.test.", "A", 20},
                                   Case{"static-rr.pools.test.", "A", 45}}) {
        INFO(name << " " << type);
        auto result = dig(server.port(), {name, type});
        REQUIRE(result.answered);
        REQUIRE_FALSE(result.answer.empty());
        for (const auto& rr : result.answer) CHECK(rr.ttl == ttl);
    }
}

TEST_CASE("a member in state down is never answered, state up is", "[pool][state]") {
    Dnsd server = start_one_worker();
    for (int i = 0; i < 6; ++i) {
        const Addresses v4 = ask(server, "drain.pools.test.", "A");
        CHECK(Texts(v4.begin(), v4.end()) == Texts{"192.0.2.81", "192.0.2.82"});
        CHECK(ask(server, "drain.pools.test.", "AAAA") == Addresses{"2001:db8::81"});
    }
}

}  // namespace dnsd::e2e
