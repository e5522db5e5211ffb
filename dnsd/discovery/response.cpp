#include "dnsd/discovery/response.hpp"

#include <algorithm>

#include "dnsd/wire/buffer.hpp"
#include "dnsd/wire/message.hpp"
#include "dnsd/wire/name.hpp"
#include "dnsd/wire/types.hpp"
#include "dnsd/zone/name.hpp"

namespace dnsd::discovery {

namespace {

namespace rrtype = wire::rrtype;

struct RecordHead {
    uint16_t type = 0, klass = 0;
    uint32_t ttl = 0;
    uint16_t size = 0;
};

bool read_head(wire::Reader& reader, RecordHead& head) {
    return wire::skip_name(reader) && reader.u16(head.type) && reader.u16(head.klass) && reader.u32(head.ttl) &&
           reader.u16(head.size) && head.size <= reader.remaining();
}

void lower(std::optional<uint32_t>& ttl, uint32_t value) { ttl = std::min(ttl.value_or(value), value); }

// One answer record of the type asked into `response`; false when its RDATA
// is malformed.
bool read_answer(wire::Reader& reader, const RecordHead& head, uint16_t type, Response& response) {
    const size_t end = reader.position() + head.size;
    if (head.type == rrtype::CNAME) lower(response.ttl_s, head.ttl);
    if (head.type != type || head.klass != wire::qclass::in) return reader.skip(head.size);
    lower(response.ttl_s, head.ttl);
    std::span<const uint8_t> bytes;
    if (type == rrtype::A || type == rrtype::AAAA) {
        const size_t size = type == rrtype::A ? 4 : 16;
        if (head.size != size || !reader.span(size, bytes)) return false;
        core::Address address;
        address.family = type == rrtype::A ? core::Family::v4 : core::Family::v6;
        std::copy(bytes.begin(), bytes.end(), address.bytes.begin());
        response.addresses.push_back(address);
        return true;
    }
    Service service;
    wire::ParsedName target;
    if (!reader.u16(service.priority) || !reader.u16(service.weight) || !reader.u16(service.port) ||
        !wire::read_name(reader, target) || reader.position() != end)
        return false;
    service.target = zone::to_text(target.lower_view());
    response.services.push_back(std::move(service));
    return true;
}

// An authority record: an SOA's negative TTL, anything else skipped.
bool read_authority(wire::Reader& reader, const RecordHead& head, Response& response) {
    if (head.type != rrtype::SOA || head.size < 4 * 5) return reader.skip(head.size);
    const size_t end = reader.position() + head.size;
    uint32_t minimum = 0;
    if (!reader.seek(end - 4) || !reader.u32(minimum)) return false;
    lower(response.negative_ttl_s, std::min(head.ttl, minimum));
    return true;
}

}  // namespace

std::optional<Response> parse_response(std::span<const uint8_t> bytes, uint16_t type) {
    wire::Reader reader(bytes);
    uint16_t id = 0, flags = 0, questions = 0, answers = 0, authorities = 0, additionals = 0;
    if (!reader.u16(id) || !reader.u16(flags) || !reader.u16(questions) || !reader.u16(answers) ||
        !reader.u16(authorities) || !reader.u16(additionals) || !(flags & wire::flag::qr))
        return std::nullopt;
    Response response;
    response.rcode = flags & 0x0f;
    for (uint16_t i = 0; i < questions; ++i)
        if (!wire::skip_name(reader) || !reader.skip(4)) return std::nullopt;
    RecordHead head;
    for (uint16_t i = 0; i < answers; ++i)
        if (!read_head(reader, head) || !read_answer(reader, head, type, response)) return std::nullopt;
    for (uint16_t i = 0; i < authorities; ++i)
        if (!read_head(reader, head) || !read_authority(reader, head, response)) return std::nullopt;
    return response;
}

}  // namespace dnsd::discovery
