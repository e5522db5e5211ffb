#include "dnsd/zone/rdata.hpp"

namespace dnsd::zone::rdata {

namespace {

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
    put16(out, static_cast<uint16_t>(v >> 16));
    put16(out, static_cast<uint16_t>(v));
}

void put_bytes(std::vector<uint8_t>& out, std::string_view bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// Appends a name the encoder may compress and records where it starts.
void put_compressible(Rdata& r, std::string_view wire) {
    r.name_offsets[r.name_count++] = static_cast<uint16_t>(r.wire.size());
    put_bytes(r.wire, wire);
}

}  // namespace

uint16_t type_code(std::string_view name) {
    // Zone files spell a type as the table does: "MX", not "mx" or "TYPE15".
    const auto code = wire::type_code(name);
    return code && wire::in_zone_files(*code) && wire::type_name(*code) == name ? *code : 0;
}

Rdata address(const core::Address& address) {
    Rdata r;
    r.wire.assign(address.bytes.begin(), address.bytes.begin() + static_cast<std::ptrdiff_t>(address.size()));
    return r;
}

Rdata name(std::string_view wire) {
    Rdata r;
    put_compressible(r, wire);
    return r;
}

Rdata mx(uint16_t preference, std::string_view exchange) {
    Rdata r;
    put16(r.wire, preference);
    put_compressible(r, exchange);
    return r;
}

Rdata srv(uint16_t priority, uint16_t weight, uint16_t port, std::string_view target) {
    Rdata r;
    put16(r.wire, priority);
    put16(r.wire, weight);
    put16(r.wire, port);
    put_bytes(r.wire, target);
    return r;
}

Rdata txt(const std::vector<std::string>& strings) {
    Rdata r;
    for (const auto& s : strings) {
        r.wire.push_back(static_cast<uint8_t>(s.size()));
        put_bytes(r.wire, s);
    }
    return r;
}

Rdata caa(uint8_t flags, std::string_view tag, std::string_view value) {
    Rdata r;
    r.wire.push_back(flags);
    r.wire.push_back(static_cast<uint8_t>(tag.size()));
    put_bytes(r.wire, tag);
    put_bytes(r.wire, value);
    return r;
}

Rdata soa(const Soa& soa) {
    Rdata r;
    put_compressible(r, soa.mname);
    put_compressible(r, soa.rname);
    for (uint32_t v : {soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum}) put32(r.wire, v);
    return r;
}

}  // namespace dnsd::zone::rdata
