#include <catch2/catch.hpp>

#include "dnsd/core/address.hpp"

using dnsd::core::Address;
using dnsd::core::Endpoint;
using dnsd::core::Family;

TEST_CASE("addresses parse strictly and print canonically", "[core]") {
    auto v4 = Address::parse("192.0.2.1");
    REQUIRE(v4);
    CHECK(v4->family == Family::v4);
    CHECK(v4->to_string() == "192.0.2.1");
    auto v6 = Address::parse("2001:DB8:0::10");
    REQUIRE(v6);
    CHECK(v6->family == Family::v6);
    CHECK(v6->to_string() == "2001:db8::10");
    for (const char* bad : {"", "192.0.2", "192.0.2.256", "1.2.3.4.5", "2001:db8::g", "::1%lo", " 1.2.3.4"})
        CHECK_FALSE(Address::parse(bad));
}

TEST_CASE("masking clears host bits", "[core]") {
    CHECK(Address::parse("192.0.2.255")->masked(24).to_string() == "192.0.2.0");
    CHECK(Address::parse("192.0.2.255")->masked(25).to_string() == "192.0.2.128");
    CHECK(Address::parse("2001:db8:ffff::1")->masked(36).to_string() == "2001:db8:f000::");
    CHECK(Address::parse("10.1.2.3")->masked(0).to_string() == "0.0.0.0");
}

TEST_CASE("endpoints need a port and brackets around IPv6", "[core]") {
    auto e = Endpoint::parse("[::1]:5353");
    REQUIRE(e);
    CHECK(e->port == 5353);
    CHECK(e->to_string() == "[::1]:5353");
    CHECK(Endpoint::parse("127.0.0.1:53")->to_string() == "127.0.0.1:53");
    for (const char* bad : {"127.0.0.1", "::1:53", "[::1]", "[127.0.0.1]:53", "127.0.0.1:65536", "127.0.0.1:x", "[::1]:"})
        CHECK_FALSE(Endpoint::parse(bad));
}
