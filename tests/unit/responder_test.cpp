// net::Responder: the worker's side of the answer path, without sockets.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "dnsd/core/published.hpp"
#include "dnsd/net/responder.hpp"
#include "dnsd/zone/load.hpp"
#include "packet.hpp"

using namespace dnsd;

namespace {

// One weighted pool of two equal members that answers with one of them.
answer::View coin_view() {
    const std::string text = R"({"zone": "coin.example", "soa": {"mname": "ns", "rname": "h"},
        "records": {"@": {"NS": ["ns"]}, "ns": {"A": ["192.0.2.53"]}, "flip": {"pool": "coin"}},
        "pools": {"coin": {"policy": "weighted", "max_answers": 1,
                           "members": [{"address": "192.0.2.1"}, {"address": "192.0.2.2"}]}}})";
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, "coin.example.json", {}, diagnostics);
    REQUIRE(zone);
    auto snapshot = std::make_shared<zone::Snapshot>();
    snapshot->max_pool_members = zone->max_pool_members;
    snapshot->zones.push_back(zone);
    answer::View view;
    view.snapshot = snapshot;
    return view;
}

// The member each of `count` queries got, as a string of '1' and '2'.
std::string flips(net::Responder& responder, size_t count) {
    test::QuerySpec spec;
    spec.name = "flip.coin.example";
    const auto query = test::build_query(spec);
    const auto source = *core::Address::parse("198.51.100.7");
    std::vector<uint8_t> buffer(65535);
    std::string out;
    for (size_t i = 0; i < count; ++i) {
        const size_t size = responder.answer(query, source, answer::Transport::udp, buffer);
        const test::Decoded d = test::decode({buffer.data(), size});
        REQUIRE(d.answer.size() == 1);
        out += d.answer[0].back();
    }
    return out;
}

}  // namespace

TEST_CASE("Responder: every worker draws its own weighted choices", "[net]") {
    core::Published<answer::View> published(std::make_shared<const answer::View>(coin_view()));
    net::Responder first(published, 0), second(published, 0);
    const std::string a = flips(first, 64), b = flips(second, 64);
    // Both members come up, and two workers agree on all 64 draws only with
    // odds of 2^-64 unless they share a seed.
    CHECK(a.find('1') != std::string::npos);
    CHECK(a.find('2') != std::string::npos);
    CHECK(a != b);
}
