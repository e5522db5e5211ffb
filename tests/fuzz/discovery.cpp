// A resolver's response to a discovery query, through
// discovery::parse_response. Byte 0 picks the type asked (A, AAAA, SRV); the
// rest is the response.
#include "dnsd/discovery/response.hpp"
#include "dnsd/wire/name.hpp"
#include "dnsd/wire/types.hpp"
#include "fuzz.hpp"

using namespace dnsd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    constexpr uint16_t types[] = {wire::rrtype::A, wire::rrtype::AAAA, wire::rrtype::SRV};
    const uint16_t type = types[data[0] % 3];
    const auto response = discovery::parse_response({data + 1, size - 1}, type);
    if (!response) return 0;
    fuzz::require(response->rcode < 16, "the rcode is the header's four bits");
    fuzz::require(response->records() == 0 || response->ttl_s, "records come with a TTL");
    for (const auto& address : response->addresses)
        fuzz::require(address.family == (type == wire::rrtype::A ? core::Family::v4 : core::Family::v6),
                      "addresses are of the family asked");
    fuzz::require(type == wire::rrtype::SRV || response->services.empty(), "SRV records only when asked");
    for (const auto& service : response->services)
        fuzz::require(!service.target.empty() && service.target.back() == '.' &&
                          service.target.size() <= 4 * wire::max_name_size,
                      "an SRV target is an absolute name");
    return 0;
}
