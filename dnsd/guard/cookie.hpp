#pragma once
// DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018): the
// server cookie is version 1, three reserved octets, a 32-bit timestamp and
// the SipHash-2-4 of client cookie | version | reserved | timestamp | client
// address under a 128-bit secret. Every node of a fleet configured with the
// same secret accepts the others' cookies. Pure functions: the time is an
// argument; nothing allocates.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "dnsd/core/address.hpp"
#include "dnsd/guard/siphash.hpp"
#include "dnsd/wire/query.hpp"

namespace dnsd::guard {

using CookieSecret = SipKey;
inline constexpr size_t server_cookie_size = 16;
using ServerCookie = std::array<uint8_t, server_cookie_size>;

// How old (seconds) a server cookie may be and still be accepted, and how far
// ahead its timestamp may be (the clocks of a fleet's nodes differ a little).
inline constexpr uint32_t cookie_lifetime_s = 3600;
inline constexpr uint32_t cookie_clock_skew_s = 300;

struct CookieSecrets {
    CookieSecret current{};
    std::optional<CookieSecret> previous;  // still accepted, never issued: a rotation under way

    // A fresh random secret, for a server with none configured. Throws
    // std::runtime_error when the system has no randomness to give.
    static CookieSecrets random();
};

// The server cookie for `client_cookie` sent from `client` at `timestamp`
// (seconds since the Unix epoch), with reserved octets `reserved`.
ServerCookie server_cookie(std::span<const uint8_t, wire::client_cookie_size> client_cookie,
                           const core::Address& client, uint32_t timestamp, const CookieSecret& secret,
                           std::array<uint8_t, 3> reserved = {});

// Whether `cookie` carries a server cookie that this server (or one sharing
// its secret, current or previous) gave `client`, no older than
// cookie_lifetime_s at `now`.
bool valid_server_cookie(const wire::Cookie& cookie, const core::Address& client, uint32_t now,
                         const CookieSecrets& secrets);

// The COOKIE option of a response: the client's cookie, then a fresh server cookie.
using CookieOption = std::array<uint8_t, wire::client_cookie_size + server_cookie_size>;
CookieOption answer_cookie(const wire::Cookie& cookie, const core::Address& client, uint32_t now,
                           const CookieSecrets& secrets);

// Parses 32 hex digits into a secret; nullopt for anything else.
std::optional<CookieSecret> parse_secret(std::string_view hex);

}  // namespace dnsd::guard
