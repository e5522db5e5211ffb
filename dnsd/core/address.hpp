#pragma once
// An IPv4 or IPv6 address in network byte order: the one address type shared by
// zones (members, static A/AAAA), geo (client lookups) and net (peers).
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace dnsd::core {

enum class Family : uint8_t { v4 = 4, v6 = 6 };

struct Address {
    Family family = Family::v4;
    // v4 uses bytes[0..3]; the rest stays zero so that == and hashing work.
    std::array<uint8_t, 16> bytes{};

    size_t size() const { return family == Family::v4 ? 4 : 16; }
    unsigned max_prefix() const { return family == Family::v4 ? 32 : 128; }

    // Strict text form: dotted quad or RFC 4291/5952 IPv6 (no zone id, no port).
    static std::optional<Address> parse(std::string_view text);
    // From a sockaddr_in / sockaddr_in6; an IPv4-mapped IPv6 peer becomes v4.
    static Address from_sockaddr(const sockaddr* sa);
    std::string to_string() const;

    // This address with every bit past the first `prefix` cleared.
    Address masked(unsigned prefix) const;

    friend bool operator==(const Address&, const Address&) = default;
    // IPv4 before IPv6, then by bytes: an order for sorted lists of members.
    friend auto operator<=>(const Address&, const Address&) = default;
};

// "ADDR:PORT" or "[ADDR6]:PORT" as used by --listen and the config's "listen"/"http".
struct Endpoint {
    Address address;
    uint16_t port = 0;

    static std::optional<Endpoint> parse(std::string_view text);
    std::string to_string() const;
    // As a sockaddr_in / sockaddr_in6 in `out`; returns its size, for bind,
    // connect or sendto.
    unsigned to_sockaddr(sockaddr_storage& out) const;

    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace dnsd::core
