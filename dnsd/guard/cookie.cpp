#include "dnsd/guard/cookie.hpp"

#include <sys/random.h>

#include <algorithm>
#include <stdexcept>

namespace dnsd::guard {

namespace {

constexpr uint8_t version = 1;

uint32_t read_u32(const uint8_t* bytes) {
    return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
}

bool hashes_match(const wire::Cookie& cookie, const core::Address& client, uint32_t timestamp,
                  const CookieSecret& secret) {
    const std::array<uint8_t, 3> reserved{cookie.server[1], cookie.server[2], cookie.server[3]};
    const ServerCookie expected = server_cookie(std::span<const uint8_t, wire::client_cookie_size>(cookie.client),
                                                client, timestamp, secret, reserved);
    // Every octet compared, whatever differs first: the time taken tells an
    // attacker nothing about how close a forged hash came.
    uint8_t difference = 0;
    for (size_t i = 0; i < expected.size(); ++i) difference |= static_cast<uint8_t>(expected[i] ^ cookie.server[i]);
    return difference == 0;
}

}  // namespace

CookieSecrets CookieSecrets::random() {
    CookieSecrets secrets;
    if (::getrandom(secrets.current.data(), secrets.current.size(), 0) != static_cast<ssize_t>(secrets.current.size()))
        throw std::runtime_error("cannot draw a random cookie secret");
    return secrets;
}

ServerCookie server_cookie(std::span<const uint8_t, wire::client_cookie_size> client_cookie,
                           const core::Address& client, uint32_t timestamp, const CookieSecret& secret,
                           std::array<uint8_t, 3> reserved) {
    // client cookie | version | reserved | timestamp | client address (RFC 9018 §4.4)
    std::array<uint8_t, wire::client_cookie_size + 8 + 16> input{};
    std::copy(client_cookie.begin(), client_cookie.end(), input.begin());
    ServerCookie cookie{version, reserved[0], reserved[1], reserved[2], static_cast<uint8_t>(timestamp >> 24),
                        static_cast<uint8_t>(timestamp >> 16), static_cast<uint8_t>(timestamp >> 8),
                        static_cast<uint8_t>(timestamp)};
    std::copy_n(cookie.begin(), 8, input.begin() + wire::client_cookie_size);
    std::copy_n(client.bytes.begin(), client.size(), input.begin() + wire::client_cookie_size + 8);
    const uint64_t hash =
        siphash24({input.data(), wire::client_cookie_size + 8 + client.size()}, secret);
    for (size_t i = 0; i < 8; ++i) cookie[8 + i] = static_cast<uint8_t>(hash >> (8 * i));
    return cookie;
}

bool valid_server_cookie(const wire::Cookie& cookie, const core::Address& client, uint32_t now,
                         const CookieSecrets& secrets) {
    if (cookie.server_size != server_cookie_size || cookie.server[0] != version) return false;
    const uint32_t timestamp = read_u32(cookie.server.data() + 4);
    // Serial number arithmetic (RFC 1982), as RFC 9018 §4.3 asks: the age may be negative.
    const auto age = static_cast<int32_t>(now - timestamp);
    if (age > static_cast<int32_t>(cookie_lifetime_s) || age < -static_cast<int32_t>(cookie_clock_skew_s))
        return false;
    return hashes_match(cookie, client, timestamp, secrets.current) ||
           (secrets.previous && hashes_match(cookie, client, timestamp, *secrets.previous));
}

CookieOption answer_cookie(const wire::Cookie& cookie, const core::Address& client, uint32_t now,
                           const CookieSecrets& secrets) {
    CookieOption option{};
    std::copy(cookie.client.begin(), cookie.client.end(), option.begin());
    const ServerCookie fresh =
        server_cookie(std::span<const uint8_t, wire::client_cookie_size>(cookie.client), client, now, secrets.current);
    std::copy(fresh.begin(), fresh.end(), option.begin() + wire::client_cookie_size);
    return option;
}

std::optional<CookieSecret> parse_secret(std::string_view hex) {
    CookieSecret secret{};
    if (hex.size() != 2 * secret.size()) return std::nullopt;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < secret.size(); ++i) {
        const int high = digit(hex[2 * i]), low = digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        secret[i] = static_cast<uint8_t>(high << 4 | low);
    }
    return secret;
}

}  // namespace dnsd::guard
