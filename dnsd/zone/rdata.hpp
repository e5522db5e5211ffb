#pragma once
// RDATA in wire form (RFC 1035 §3.3, RFC 2782, RFC 3596, RFC 8659), with the
// offsets of the names a response encoder may compress. Names are given in
// wire form.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone::rdata {

// The type a zone file may carry with mnemonic `name` (upper case), or 0.
uint16_t type_code(std::string_view name);

Rdata address(const core::Address& address);  // A or AAAA by family
Rdata name(std::string_view wire);             // NS, CNAME, PTR
Rdata mx(uint16_t preference, std::string_view exchange);
// The target is not compressible (RFC 2782).
Rdata srv(uint16_t priority, uint16_t weight, uint16_t port, std::string_view target);
// Each string at most 255 octets.
Rdata txt(const std::vector<std::string>& strings);
Rdata caa(uint8_t flags, std::string_view tag, std::string_view value);

struct Soa {
    std::string mname, rname;  // wire form
    uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};
Rdata soa(const Soa& soa);

}  // namespace dnsd::zone::rdata
