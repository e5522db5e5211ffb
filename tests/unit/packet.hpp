#pragma once
// DNS packets for tests, independent of the code under test: queries are built
// byte by byte, and responses are decoded by hand into one text line per
// item, so that a writer bug shows up as a wrong line rather than being
// undone by the matching reader.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"

namespace dnsd::test {

struct Bytes {
    std::vector<uint8_t> data;

    Bytes& u8(uint8_t v) {
        data.push_back(v);
        return *this;
    }
    Bytes& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
    Bytes& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
    Bytes& raw(std::initializer_list<uint8_t> bytes) {
        data.insert(data.end(), bytes);
        return *this;
    }
    Bytes& raw(std::span<const uint8_t> bytes) {
        data.insert(data.end(), bytes.begin(), bytes.end());
        return *this;
    }
    // "www.Example." or "www.Example" as labels, then the root label; "." is the root.
    Bytes& name(std::string_view text) {
        while (!text.empty() && text != ".") {
            const size_t dot = text.find('.');
            const std::string_view label = text.substr(0, dot);
            u8(static_cast<uint8_t>(label.size()));
            data.insert(data.end(), label.begin(), label.end());
            text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
        }
        return u8(0);
    }
    // A header: id, flags, then the four counts.
    Bytes& header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }
    size_t size() const { return data.size(); }
};

// The wire form of `text` ("a.b." or "a.b"), lower case, as the zone model keeps names.
inline std::string wire_name(std::string_view text) {
    Bytes b;
    b.name(text);
    std::string out(b.data.begin(), b.data.end());
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
}

std::optional<uint16_t> type_code(std::string_view name);
std::string type_name(uint16_t type);
std::string rcode_name(uint16_t rcode);

struct QuerySpec {
    std::string name;
    uint16_t type = 1;
    uint16_t qclass = 1;
    uint16_t id = 0xbeef;
    uint8_t opcode = 0;
    bool rd = true;
    bool edns = false;
    uint16_t udp_size = 1232;
    uint8_t edns_version = 0;
    bool dnssec_ok = false;
    bool nsid = false;
    std::optional<core::Address> ecs_address;  // with ecs_prefix: sends ECS (implies edns)
    uint8_t ecs_prefix = 0;
    std::vector<uint8_t> cookie;  // not empty: sends a COOKIE option of these octets (implies edns)
};

// The query `spec` describes, built byte by byte.
std::vector<uint8_t> build_query(const QuerySpec& spec);

struct Decoded {
    bool ok = false;
    std::string error;               // why the packet did not decode
    uint16_t id = 0;
    uint8_t opcode = 0;
    uint16_t rcode = 0;              // with the OPT's extended bits
    bool tc = false;
    bool aa = false;
    std::vector<std::string> lines;  // header, question, records, OPT
    std::vector<std::string> answer; // just the answer section's lines, without the prefix
};

// Decodes a whole response; every count, length and pointer is checked and
// trailing bytes are an error. Lines:
//   rcode NOERROR flags qr aa rd
//   question NAME [CLASS ]TYPE
//   answer|authority|additional OWNER TTL TYPE RDATA
//   edns version=0 udp=1232[ do][ nsid="..."][ ecs=ADDR/SOURCE/SCOPE]
Decoded decode(std::span<const uint8_t> packet);

}  // namespace dnsd::test
