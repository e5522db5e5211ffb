#include "dnsd/wire/query.hpp"

#include <algorithm>

namespace dnsd::wire {

namespace {

// RFC 7871 §6: a query's ECS must name family 1 or 2, a source prefix within
// the family, exactly ceil(prefix / 8) address octets with no bits past the
// prefix, and scope prefix 0.
bool parse_ecs(std::span<const uint8_t> data, Edns& edns) {
    if (edns.has_ecs) return false;  // which one would the answer be for?
    Reader reader(data);
    uint16_t family = 0;
    uint8_t source_prefix = 0, scope_prefix = 0;
    if (!reader.u16(family) || !reader.u8(source_prefix) || !reader.u8(scope_prefix)) return false;
    ClientSubnet ecs;
    if (family == ecs_family::ipv4)
        ecs.address.family = core::Family::v4;
    else if (family == ecs_family::ipv6)
        ecs.address.family = core::Family::v6;
    else
        return false;
    if (source_prefix > ecs.address.max_prefix() || scope_prefix != 0) return false;
    const size_t octets = (source_prefix + 7u) / 8u;
    std::span<const uint8_t> address;
    if (reader.remaining() != octets || !reader.span(octets, address)) return false;
    const unsigned spare_bits = octets * 8u - source_prefix;
    if (octets > 0 && (address[octets - 1] & ((1u << spare_bits) - 1u)) != 0) return false;
    for (size_t i = 0; i < octets; ++i) ecs.address.bytes[i] = address[i];
    ecs.source_prefix = source_prefix;
    edns.ecs = ecs;
    edns.has_ecs = true;
    return true;
}

// RFC 7873 §5.2.2: a client cookie alone is 8 octets; with a server cookie the
// whole option is 16 to 40 octets. Anything else, or a second COOKIE, is
// malformed.
bool parse_cookie(std::span<const uint8_t> data, Edns& edns) {
    const size_t server_size = data.size() - client_cookie_size;
    if (edns.has_cookie || data.size() < client_cookie_size || (server_size != 0 && server_size < 8) ||
        server_size > max_server_cookie_size)
        return false;
    std::copy_n(data.begin(), client_cookie_size, edns.cookie.client.begin());
    std::copy(data.begin() + client_cookie_size, data.end(), edns.cookie.server.begin());
    edns.cookie.server_size = static_cast<uint8_t>(server_size);
    edns.has_cookie = true;
    return true;
}

bool parse_options(std::span<const uint8_t> rdata, Edns& edns) {
    Reader reader(rdata);
    while (reader.remaining() > 0) {
        uint16_t code = 0, length = 0;
        std::span<const uint8_t> data;
        if (!reader.u16(code) || !reader.u16(length) || !reader.span(length, data)) return false;
        switch (code) {
        case option::nsid:
            edns.nsid = true;
            break;
        case option::ecs:
            if (!parse_ecs(data, edns)) return false;
            break;
        case option::cookie:
            if (!parse_cookie(data, edns)) return false;
            break;
        default:
            break;  // unknown options are ignored (RFC 6891 §6.1.2)
        }
    }
    return true;
}

// The OPT's fields after its owner and TYPE.
bool parse_opt(Reader& reader, Edns& edns) {
    uint16_t payload = 0, rdlength = 0;
    uint32_t ttl = 0;
    std::span<const uint8_t> rdata;
    if (!reader.u16(payload) || !reader.u32(ttl) || !reader.u16(rdlength) ||
        !reader.span(rdlength, rdata))
        return false;
    edns.payload = payload < 512 ? 512 : payload;
    edns.version = static_cast<uint8_t>(ttl >> 16);
    edns.dnssec_ok = (ttl & edns_flag_do) != 0;
    // Options of a version we do not speak may mean anything: BADVERS answers it.
    return edns.version != 0 || parse_options(rdata, edns);
}

bool skip_rest_of_record(Reader& reader) {
    uint16_t rdlength = 0;
    return reader.skip(2 + 4) && reader.u16(rdlength) && reader.skip(rdlength);
}

// The answer, authority and additional sections, up to the end of the packet.
ParseStatus read_records(Reader& reader, uint32_t ancount_nscount, uint16_t arcount, Query& query) {
    uint16_t type = 0;
    for (uint32_t i = 0; i < ancount_nscount; ++i) {
        if (!skip_name(reader) || !reader.u16(type) || type == type_opt || !skip_rest_of_record(reader))
            return ParseStatus::formerr;
    }
    for (uint32_t i = 0; i < arcount; ++i) {
        // The OPT's owner must be the root, which is one zero octet.
        const bool root_owner = reader.remaining() > 0 && reader.data()[reader.position()] == 0;
        if (!skip_name(reader) || !reader.u16(type)) return ParseStatus::formerr;
        if (type != type_opt) {
            if (!skip_rest_of_record(reader)) return ParseStatus::formerr;
            continue;
        }
        if (query.has_edns) return ParseStatus::formerr;  // RFC 6891 §6.1.1: one OPT at most
        query.has_edns = true;
        if (!root_owner || !parse_opt(reader, query.edns)) return ParseStatus::formerr;
    }
    if (reader.remaining() != 0) return ParseStatus::formerr;
    return ParseStatus::ok;
}

}  // namespace

ParseStatus parse_query(std::span<const uint8_t> packet, Query& query) {
    Reader reader(packet);
    uint16_t flags = 0, qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
    if (!reader.u16(query.id) || !reader.u16(flags) || !reader.u16(qdcount) ||
        !reader.u16(ancount) || !reader.u16(nscount) || !reader.u16(arcount))
        return ParseStatus::drop;
    if ((flags & flag::qr) != 0) return ParseStatus::drop;
    query.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
    query.rd = (flags & flag::rd) != 0;
    query.cd = (flags & flag::cd) != 0;
    const uint32_t ancount_nscount = uint32_t{ancount} + nscount;

    if (query.opcode == opcode::query && qdcount == 0) {
        const ParseStatus records = read_records(reader, ancount_nscount, arcount, query);
        return records == ParseStatus::ok && query.edns.has_cookie ? ParseStatus::cookie_only : ParseStatus::formerr;
    }
    if (query.opcode != opcode::query || qdcount != 1) {
        // The status is settled; read on only to find the OPT the reply echoes.
        bool questions_read = true;
        for (uint16_t i = 0; i < qdcount && questions_read; ++i)
            questions_read = skip_name(reader) && reader.skip(2 + 2);  // type, class
        if (questions_read) read_records(reader, ancount_nscount, arcount, query);
        return query.opcode != opcode::query ? ParseStatus::notimp : ParseStatus::formerr;
    }

    if (!read_name(reader, query.qname) || !reader.u16(query.qtype) || !reader.u16(query.qclass))
        return ParseStatus::formerr;
    query.has_question = true;
    return read_records(reader, ancount_nscount, arcount, query);
}

}  // namespace dnsd::wire
