#pragma once
// SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed hash RFC 9018 builds
// interoperable DNS server cookies on. A pure function of its input and key.
#include <array>
#include <cstdint>
#include <span>

namespace dnsd::guard {

using SipKey = std::array<uint8_t, 16>;

// The 64-bit SipHash-2-4 of `data` under `key`, as the reference
// implementation computes it; its 8 output octets are the value's
// little-endian bytes.
uint64_t siphash24(std::span<const uint8_t> data, const SipKey& key);

}  // namespace dnsd::guard
