#pragma once
// Writing a response into the caller's buffer: header, question, records with
// name compression (RFC 1035 §4.1.4), and the OPT (RFC 6891) with NSID, ECS,
// COOKIE (RFC 7873) and Extended DNS Error (RFC 8914).
// Records go in section order; one that would not fit is not written at all
// and the caller decides between dropping it and truncating.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dnsd/wire/buffer.hpp"
#include "dnsd/wire/query.hpp"

namespace dnsd::wire {

enum class Section : uint8_t { answer, authority, additional };

struct OptRecord {
    uint16_t payload = 1232;
    bool dnssec_ok = false;  // the query's DO bit, which the reply must copy (RFC 3225 §3)
    std::string_view nsid;             // empty: no NSID option
    const ClientSubnet* ecs = nullptr;  // null: no ECS option
    uint8_t ecs_scope_prefix = 0;
    std::span<const uint8_t> cookie;  // the option's data, client then server cookie; empty: none
    uint16_t ede = no_ede;            // an Extended DNS Error INFO-CODE, without EXTRA-TEXT
    static constexpr uint16_t no_ede = 0xffff;  // reserved by RFC 8914 §5.2

    // Octets the record takes in a message.
    size_t size() const;
};

class ResponseWriter {
public:
    // Never writes past min(limit, out.size()); the result is only meaningful
    // when that is at least a header's size.
    ResponseWriter(std::span<uint8_t> out, size_t limit);

    // Starts the message with the query's ID, opcode, RD and CD; QR set.
    void begin(const Query& query);
    bool question(std::span<const uint8_t> name, uint16_t type, uint16_t qclass);

    // Keeps `size` octets free for a record written by finish(), so that what
    // fits before it is judged against the space that will really be left.
    void reserve(size_t size);

    // Appends one record of class IN. The names in `rdata` that start at
    // `name_offsets` are uncompressed and get compressed; `owner` is an
    // uncompressed wire name. False, with nothing written, if it does not fit
    // or comes after a later section.
    bool record(Section section, std::string_view owner, uint16_t type, uint32_t ttl,
                std::span<const uint8_t> rdata, std::span<const uint16_t> name_offsets = {});

    // Appends one record of class IN owned by the question's name, which it
    // points to; `rdata` holds no name to compress. The same bytes as
    // record() with that name as owner, for one bounds check and no search:
    // most answers are of this kind, so it is inline. False, with nothing
    // written, if it does not fit, comes after a later section, or there is
    // no question.
    bool question_record(Section section, uint16_t type, uint32_t ttl, std::span<const uint8_t> rdata) {
        if (section < section_ || !has_question_ || rdata.size() > UINT16_MAX) return false;
        uint8_t* out = writer_.claim(2 + 2 + 2 + 4 + 2 + rdata.size());  // owner, type, class, ttl, rdlength
        if (out == nullptr) return false;
        out = put_u16(out, static_cast<uint16_t>(0xc000 | header_size));  // the question's name follows the header
        out = put_u32(put_u16(put_u16(out, type), qclass::in), ttl);
        put_bytes(put_u16(out, static_cast<uint16_t>(rdata.size())), rdata);
        section_ = section;
        ++counts_[static_cast<size_t>(section)];
        return true;
    }

    // A point to return to, to drop a partly written RRset.
    struct Mark {
        size_t position = 0;
        std::array<uint16_t, 3> counts{};
        size_t compression_count = 0;
        Section section = Section::answer;
    };
    Mark mark() const;
    void rewind(const Mark& mark);

    // Drops every record and sets TC: the header and question remain.
    void truncate();

    void set_authoritative(bool aa) { aa_ = aa; }
    // Sets the full (extended) rcode; its upper bits go in the OPT.
    void set_rcode(uint16_t rcode) { rcode_ = rcode; }
    bool truncated() const { return tc_; }
    uint16_t count(Section section) const { return counts_[static_cast<size_t>(section)]; }

    // Writes the OPT if given (into the reserved space) and the header's flags
    // and counts; returns the message size.
    size_t finish(const OptRecord* opt);

private:
    bool name(std::string_view name);
    bool matches(size_t offset, std::string_view suffix) const;
    void remember(size_t offset, size_t size);

    // Names and name suffixes already in the message that later names may
    // point to: where each starts and its size uncompressed, which rules out
    // nearly every candidate before a byte of it is compared. Fixed size:
    // once full, later names are written in full, which is correct, only
    // longer. [0, compression_count_) only: the rest is never read.
    struct Suffix {
        uint16_t offset;
        uint8_t size;
    };
    static constexpr size_t compression_slots = 96;
    std::array<Suffix, compression_slots> compression_;
    size_t compression_count_ = 0;
    // The last name written and where it starts in full: the records of an
    // RRset share their owner, which then costs a compare and a pointer
    // rather than a suffix search per record. A copy, not a view, so that a
    // caller's reused buffer can never pass for the name it held before.
    std::array<char, 255> last_name_;  // [0, last_name_size_) only
    size_t last_name_size_ = 0;  // 0: none
    size_t last_name_offset_ = 0;

    Writer writer_;
    size_t reserved_ = 0;
    size_t question_end_ = 0;
    size_t question_compression_count_ = 0;
    std::array<uint16_t, 3> counts_{};
    Section section_ = Section::answer;
    uint16_t flags_ = 0;  // opcode, RD, CD from the query; QR
    uint16_t rcode_ = 0;
    bool aa_ = false;
    bool tc_ = false;
    bool has_question_ = false;
};

}  // namespace dnsd::wire
