#pragma once
// A resolver's response to a discovery query, read through wire's
// bounds-checked Reader: the rcode, the records of the type asked in the
// answer section, the least TTL that answer holds, and the negative TTL an
// authority SOA gives (RFC 2308 §5). Any bytes at all may be given.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::discovery {

struct Service {  // one SRV record
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    std::string target;  // presentation form, absolute ("web-1.node.dc1.consul.")
};

struct Response {
    uint16_t rcode = 0;
    std::vector<core::Address> addresses;  // A or AAAA records, in answer order
    std::vector<Service> services;         // SRV records, in answer order
    // The least TTL among the answer's records of the type asked and the
    // CNAMEs before them; nullopt when there are none.
    std::optional<uint32_t> ttl_s;
    // min(SOA TTL, SOA MINIMUM) from the authority section; nullopt without an SOA.
    std::optional<uint32_t> negative_ttl_s;

    size_t records() const { return addresses.size() + services.size(); }
};

// `bytes` read as the response to a query of `type` (A, AAAA or SRV);
// nullopt when it is not a well-formed DNS response.
std::optional<Response> parse_response(std::span<const uint8_t> bytes, uint16_t type);

}  // namespace dnsd::discovery
