#include "dnsd/wire/response.hpp"

#include <cstring>

namespace dnsd::wire {

namespace {

constexpr size_t max_pointer_offset = 0x3fff;
constexpr size_t opt_fixed_size = 1 + 2 + 2 + 4 + 2;  // root owner, type, class, ttl, rdlength
constexpr size_t option_header_size = 4;
constexpr size_t ecs_fixed_size = 4;  // family, source prefix, scope prefix

uint8_t* put_option(uint8_t* out, uint16_t code, size_t size) {
    return put_u16(put_u16(out, code), static_cast<uint16_t>(size));
}

size_t ecs_address_size(const ClientSubnet& ecs) { return (ecs.source_prefix + 7u) / 8u; }

}  // namespace

size_t OptRecord::size() const {
    size_t size = opt_fixed_size;
    if (!nsid.empty()) size += option_header_size + nsid.size();
    if (ecs) size += option_header_size + ecs_fixed_size + ecs_address_size(*ecs);
    if (!cookie.empty()) size += option_header_size + cookie.size();
    if (ede != no_ede) size += option_header_size + 2;
    return size;
}

ResponseWriter::ResponseWriter(std::span<uint8_t> out, size_t limit) : writer_(out) {
    writer_.set_limit(limit);
}

void ResponseWriter::begin(const Query& query) {
    flags_ = static_cast<uint16_t>(flag::qr | (query.opcode & 0xf) << 11 | (query.rd ? flag::rd : 0) |
                                   (query.cd ? flag::cd : 0));
    // Flags and counts are patched by finish(); zero until then.
    if (uint8_t* header = writer_.claim(header_size)) std::memset(put_u16(header, query.id), 0, header_size - 2);
    question_end_ = writer_.position();
}

bool ResponseWriter::question(std::span<const uint8_t> qname, uint16_t type, uint16_t qclass) {
    const size_t start = writer_.position();
    uint8_t* out = writer_.claim(qname.size() + 2 + 2);
    if (out == nullptr) return false;
    put_u16(put_u16(put_bytes(out, qname), type), qclass);
    // The first name in the message, written whole: every suffix is
    // remembered for later names to point to.
    size_t offset = 0;
    for (; offset < qname.size() && qname[offset] != 0 && qname[offset] <= max_label_size;
         offset += 1 + qname[offset])
        remember(start + offset, qname.size() - offset);
    if (offset + 1 != qname.size() || qname[offset] != 0) {  // not one well-formed name
        writer_.rewind(start);
        compression_count_ = 0;
        return false;
    }
    has_question_ = true;
    question_end_ = writer_.position();
    question_compression_count_ = compression_count_;
    return true;
}

void ResponseWriter::reserve(size_t size) {
    const size_t limit = writer_.limit() + reserved_;
    // set_limit never goes below the position; finish() gives back only what
    // was really held.
    writer_.set_limit(size < limit ? limit - size : 0);
    reserved_ = limit - writer_.limit();
}

bool ResponseWriter::record(Section section, std::string_view owner, uint16_t type, uint32_t ttl,
                            std::span<const uint8_t> rdata, std::span<const uint16_t> name_offsets) {
    if (section < section_) return false;
    const Mark before = mark();
    size_t rdlength_at = 0;
    bool ok = name(owner) && writer_.u16(type) && writer_.u16(qclass::in) && writer_.u32(ttl);
    if (ok) {
        rdlength_at = writer_.position();
        ok = writer_.u16(0);
    }
    const size_t rdata_start = writer_.position();
    size_t copied = 0;
    for (uint16_t offset : name_offsets) {
        const size_t size = ok && offset >= copied && offset < rdata.size()
                                ? name_size(rdata.subspan(offset))
                                : 0;
        ok = size != 0 && writer_.bytes(rdata.subspan(copied, offset - copied)) &&
             name(as_view(rdata.subspan(offset, size)));
        copied = offset + size;
    }
    ok = ok && writer_.bytes(rdata.subspan(copied));
    const size_t rdlength = writer_.position() - rdata_start;
    if (!ok || rdlength > UINT16_MAX) {
        rewind(before);
        return false;
    }
    writer_.patch_u16(rdlength_at, static_cast<uint16_t>(rdlength));
    section_ = section;
    ++counts_[static_cast<size_t>(section)];
    return true;
}

ResponseWriter::Mark ResponseWriter::mark() const {
    return {writer_.position(), counts_, compression_count_, section_};
}

void ResponseWriter::rewind(const Mark& mark) {
    writer_.rewind(mark.position);
    if (last_name_offset_ >= mark.position) last_name_size_ = 0;
    counts_ = mark.counts;
    compression_count_ = mark.compression_count;
    section_ = mark.section;
}

void ResponseWriter::truncate() {
    rewind({question_end_, {}, question_compression_count_, Section::answer});
    tc_ = true;
}

size_t ResponseWriter::finish(const OptRecord* opt) {
    writer_.set_limit(writer_.limit() + reserved_);
    reserved_ = 0;
    uint16_t additional = counts_[2];
    // Claimed whole, then filled in; left out only when the caller reserved
    // less than it needs.
    const size_t opt_size = opt ? opt->size() : 0;
    uint8_t* out = opt ? writer_.claim(opt_size) : nullptr;
    if (out != nullptr) {
        out = put_u16(put_u8(out, 0), type_opt);  // the root owns it
        out = put_u8(put_u16(out, opt->payload), static_cast<uint8_t>(rcode_ >> 4));
        out = put_u16(put_u8(out, 0), opt->dnssec_ok ? edns_flag_do : 0);  // version 0
        out = put_u16(out, static_cast<uint16_t>(opt_size - opt_fixed_size));
        if (!opt->nsid.empty()) out = put_bytes(put_option(out, option::nsid, opt->nsid.size()), as_bytes(opt->nsid));
        if (opt->ecs) {
            const ClientSubnet& ecs = *opt->ecs;
            const size_t octets = ecs_address_size(ecs);
            out = put_option(out, option::ecs, ecs_fixed_size + octets);
            out = put_u16(out, ecs.address.family == core::Family::v4 ? ecs_family::ipv4 : ecs_family::ipv6);
            out = put_u8(put_u8(out, ecs.source_prefix), opt->ecs_scope_prefix);
            out = put_bytes(out, {ecs.address.bytes.data(), octets});
        }
        if (!opt->cookie.empty()) out = put_bytes(put_option(out, option::cookie, opt->cookie.size()), opt->cookie);
        if (opt->ede != OptRecord::no_ede) put_u16(put_option(out, option::extended_error, 2), opt->ede);
        ++additional;
    }
    const uint16_t flags = static_cast<uint16_t>(flags_ | (aa_ ? flag::aa : 0) | (tc_ ? flag::tc : 0) |
                                                 (rcode_ & 0xf));
    writer_.patch_u16(2, flags);
    writer_.patch_u16(4, has_question_ ? 1 : 0);
    writer_.patch_u16(6, counts_[0]);
    writer_.patch_u16(8, counts_[1]);
    writer_.patch_u16(10, additional);
    return writer_.position();
}

bool ResponseWriter::name(std::string_view name) {
    if (name.size() == last_name_size_ && std::memcmp(name.data(), last_name_.data(), name.size()) == 0)
        return writer_.u16(static_cast<uint16_t>(0xc000 | last_name_offset_));
    // Find the longest suffix already in the message, write the labels before
    // it, then a pointer to it.
    size_t literal_end = 0;
    size_t target = SIZE_MAX;
    while (literal_end < name.size() && name[literal_end] != 0) {
        const std::string_view suffix = name.substr(literal_end);
        for (size_t i = 0; i < compression_count_ && target == SIZE_MAX; ++i)
            if (compression_[i].size == suffix.size() && matches(compression_[i].offset, suffix))
                target = compression_[i].offset;
        if (target != SIZE_MAX) break;
        literal_end += 1 + static_cast<uint8_t>(name[literal_end]);
    }
    if (literal_end >= name.size()) return false;  // not a well-formed name
    const size_t start = writer_.position();
    const bool ok = target == SIZE_MAX
                        ? writer_.bytes(as_bytes(name.substr(0, literal_end + 1)))
                        : writer_.bytes(as_bytes(name.substr(0, literal_end))) &&
                              writer_.u16(static_cast<uint16_t>(0xc000 | target));
    if (!ok) return false;
    for (size_t offset = 0; offset < literal_end; offset += 1 + static_cast<uint8_t>(name[offset]))
        remember(start + offset, name.size() - offset);
    const size_t full_name = literal_end == 0 ? target : start;
    if (full_name <= max_pointer_offset && name.size() > 2 && name.size() <= last_name_.size()) {
        std::memcpy(last_name_.data(), name.data(), name.size());
        last_name_size_ = name.size();
        last_name_offset_ = full_name;
    }
    return true;
}

bool ResponseWriter::matches(size_t offset, std::string_view suffix) const {
    // `offset` names a name this writer wrote, so its labels are well-formed
    // and its pointers go backwards; the checks only guard against a bug.
    const uint8_t* message = writer_.data();
    // Mostly the name is there in full and in the same case (the zone's
    // names are lower case, and so are most questions): one compare, since
    // the bytes of a well-formed name can only read back as that name.
    if (offset + suffix.size() <= writer_.position() && std::memcmp(message + offset, suffix.data(), suffix.size()) == 0)
        return true;
    // Else label by label, through pointers, apart from case.
    size_t i = 0;
    for (size_t steps = 0; steps <= max_name_size && offset < writer_.position(); ++steps) {
        const uint8_t length = message[offset];
        if ((length & 0xc0) == 0xc0) {
            if (offset + 1 >= writer_.position()) return false;
            offset = size_t{length & 0x3fu} << 8 | message[offset + 1];
            continue;
        }
        if (i >= suffix.size() || static_cast<uint8_t>(suffix[i]) != length) return false;
        if (length == 0) return i + 1 == suffix.size();
        if (i + 1 + length > suffix.size() || offset + 1 + length > writer_.position()) return false;
        for (size_t k = 1; k <= length; ++k)
            if (to_lower(message[offset + k]) != to_lower(static_cast<uint8_t>(suffix[i + k]))) return false;
        i += 1 + length;
        offset += 1 + length;
    }
    return false;
}

void ResponseWriter::remember(size_t offset, size_t size) {
    if (offset <= max_pointer_offset && compression_count_ < compression_slots)
        compression_[compression_count_++] = {static_cast<uint16_t>(offset), static_cast<uint8_t>(size)};
}

}  // namespace dnsd::wire
