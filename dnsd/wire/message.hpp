#pragma once
// The numbers a DNS message is made of (RFC 1035 §4.1, RFC 6891 §6), named
// once for the parser and the writer alike.
#include <cstddef>
#include <cstdint>

namespace dnsd::wire {

inline constexpr size_t header_size = 12;
inline constexpr size_t max_message_size = 65535;  // the most TCP's length prefix can say

// Bits of the header's second 16-bit word.
namespace flag {
inline constexpr uint16_t qr = 0x8000, aa = 0x0400, tc = 0x0200, rd = 0x0100, cd = 0x0010;
}
namespace opcode {
inline constexpr uint8_t query = 0;
}
namespace rcode {
inline constexpr uint8_t noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4,
                         refused = 5;
inline constexpr uint16_t badvers = 16, badcookie = 23;  // extended: need an OPT
}  // namespace rcode
namespace qclass {
inline constexpr uint16_t in = 1;
}

inline constexpr uint16_t type_opt = 41;
// The DO bit in the flags that make up the low 16 bits of the OPT's TTL (RFC 3225).
inline constexpr uint16_t edns_flag_do = 0x8000;
namespace option {
inline constexpr uint16_t nsid = 3, ecs = 8, cookie = 10, extended_error = 15;
}
// Extended DNS Error INFO-CODEs (RFC 8914 §4).
namespace ede {
inline constexpr uint16_t prohibited = 18, not_authoritative = 20;
}
// DNS cookie sizes (RFC 7873 §4): the client's is fixed; a server's is 8 to 32 octets.
inline constexpr size_t client_cookie_size = 8;
inline constexpr size_t max_server_cookie_size = 32;
// ECS FAMILY values (RFC 7871 §6, from the IANA address family numbers).
namespace ecs_family {
inline constexpr uint16_t ipv4 = 1, ipv6 = 2;
}

}  // namespace dnsd::wire
