#pragma once
// Record types and RCODEs by number and by name (RFC 1035 §3.2.2, RFC 6895),
// the one table every part of dnsd names them from: zone files, explain,
// metrics and logs.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dnsd::wire {

namespace rrtype {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28, SRV = 33,
                          OPT = 41, DS = 43, IXFR = 251, AXFR = 252, ANY = 255, CAA = 257;
}

// The mnemonic, or RFC 3597's "TYPE123" for a type without one here.
std::string type_name(uint16_t type);
// The type a mnemonic or "TYPE123" names, in any case; nullopt for neither.
std::optional<uint16_t> type_code(std::string_view name);

// The types a zone file may hold (SPEC §3), in the table's order.
bool in_zone_files(uint16_t type);
std::span<const std::string_view> zone_file_type_names();

// The mnemonic (RFC 6895 §2.3), or "RCODE23" for one without.
std::string rcode_name(uint16_t rcode);

}  // namespace dnsd::wire
