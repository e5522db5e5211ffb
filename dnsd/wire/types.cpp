#include "dnsd/wire/types.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "dnsd/wire/message.hpp"

namespace dnsd::wire {

namespace {

struct Type {
    uint16_t code;
    std::string_view name;
    bool in_zone_files;
};

constexpr std::array types{
    Type{rrtype::A, "A", true},         Type{rrtype::NS, "NS", true},   Type{rrtype::CNAME, "CNAME", true},
    Type{rrtype::SOA, "SOA", true},     Type{rrtype::PTR, "PTR", true}, Type{rrtype::MX, "MX", true},
    Type{rrtype::TXT, "TXT", true},     Type{rrtype::AAAA, "AAAA", true}, Type{rrtype::SRV, "SRV", true},
    Type{rrtype::CAA, "CAA", true},     Type{rrtype::OPT, "OPT", false}, Type{rrtype::DS, "DS", false},
    Type{rrtype::IXFR, "IXFR", false},  Type{rrtype::AXFR, "AXFR", false}, Type{rrtype::ANY, "ANY", false},
};

constexpr auto zone_file_names = [] {
    std::array<std::string_view, std::count_if(types.begin(), types.end(), [](const Type& t) { return t.in_zone_files; })>
        names{};
    size_t n = 0;
    for (const Type& t : types)
        if (t.in_zone_files) names[n++] = t.name;
    return names;
}();

constexpr std::array<std::string_view, 11> rcode_names{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                        "NXRRSET", "NOTAUTH", "NOTZONE"};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
           });
}

}  // namespace

std::string type_name(uint16_t type) {
    for (const Type& t : types)
        if (t.code == type) return std::string(t.name);
    return "TYPE" + std::to_string(type);
}

std::optional<uint16_t> type_code(std::string_view name) {
    for (const Type& t : types)
        if (equal_ignoring_case(t.name, name)) return t.code;
    if (name.size() > 4 && equal_ignoring_case(name.substr(0, 4), "TYPE")) {
        uint16_t code = 0;
        const auto digits = name.substr(4);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
        if (ec == std::errc{} && end == digits.data() + digits.size()) return code;
    }
    return std::nullopt;
}

bool in_zone_files(uint16_t type) {
    return std::any_of(types.begin(), types.end(), [&](const Type& t) { return t.code == type && t.in_zone_files; });
}

std::span<const std::string_view> zone_file_type_names() { return zone_file_names; }

std::string rcode_name(uint16_t rcode) {
    if (rcode < rcode_names.size()) return std::string(rcode_names[rcode]);
    if (rcode == rcode::badvers) return "BADVERS";
    if (rcode == rcode::badcookie) return "BADCOOKIE";
    return "RCODE" + std::to_string(rcode);
}

}  // namespace dnsd::wire
