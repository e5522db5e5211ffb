#include "dnsd/zone/load.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "dnsd/json/json.hpp"
#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

struct Loaded {
    std::shared_ptr<const Zone> zone;
    std::string name;  // lower case, no final dot; empty when "zone" was unusable
    json::Position position;
};

Loaded load(std::string text, const std::string& file, RegionNames regions, uint32_t auto_serial,
            core::Diagnostics& diagnostics) {
    Loaded loaded;
    core::Diagnostics found;
    std::optional<SourceZone> source;
    {
        const json::Text json_text(std::move(text), file);
        // The records are read one name at a time, straight from the text.
        const auto root = json::parse(json_text, found, "records");
        if (root) {
            Fields fields(json_text, found);
            source = read_zone(*root, regions, auto_serial, fields);
            validate(*source, fields);
            if (!source->apex.empty()) {
                loaded.name = to_text(source->apex);
                if (loaded.name.size() > 1) loaded.name.pop_back();
                loaded.position = json_text.position(source->position);
            }
        }
    }  // the text and the tree go before the compiled zone takes its memory
    if (source && found.empty()) loaded.zone = compile(std::move(*source), file);
    std::stable_sort(found.begin(), found.end(), [](const core::Diagnostic& a, const core::Diagnostic& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    diagnostics.insert(diagnostics.end(), found.begin(), found.end());
    return loaded;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// The "auto" serial of a file read at start-up: its modification time in seconds.
uint32_t mtime_serial(const FileContent& content) { return static_cast<uint32_t>(content.mtime_ns / 1'000'000'000); }

// Closes the descriptor however the read ends.
struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
};

}  // namespace

std::shared_ptr<const Zone> load_zone(std::string_view text, const std::string& file, RegionNames regions,
                                      core::Diagnostics& diagnostics, uint32_t auto_serial) {
    return load(std::string(text), file, regions, auto_serial, diagnostics).zone;
}

std::shared_ptr<const Zone> load_zone_file(const std::string& path, RegionNames regions,
                                           core::Diagnostics& diagnostics) {
    auto content = read_zone_file(path, diagnostics);
    if (!content) return nullptr;
    return load(std::move(content->text), path, regions, mtime_serial(*content), diagnostics).zone;
}

std::vector<std::string> list_zone_files(const std::string& dir, core::Diagnostics& diagnostics) {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        const fs::path& path = it->path();
        std::string name = path.filename().string();
        // Dot files are editors' scratch copies, not zones. A file that goes
        // away between the listing and the check is simply not listed; one
        // whose type cannot be read (a dangling link, say) is, so that reading
        // it reports the problem under its name. Each entry has its own error
        // codes: its failure must not end the listing.
        if (path.extension() != ".json" || name.front() == '.') continue;
        std::error_code entry_error, link_error;
        const bool regular = it->is_regular_file(entry_error);
        const bool gone = entry_error == std::errc::no_such_file_or_directory && !it->is_symlink(link_error);
        if (regular || (entry_error && !gone)) files.push_back(path.string());
    }
    if (error) diagnostics.push_back({dir, 0, 0, "cannot read the zones directory: " + error.message()});
    std::sort(files.begin(), files.end());
    return files;
}

std::optional<FileContent> read_zone_file(const std::string& path, core::Diagnostics& diagnostics, bool* missing) {
    auto fail = [&](int error) -> std::optional<FileContent> {
        // A link to nothing is a broken zone file, not a missing one.
        std::error_code link_error;
        const bool dangling = error == ENOENT && std::filesystem::is_symlink(path, link_error);
        if (error == ENOENT && !dangling && missing != nullptr) {
            *missing = true;
        } else {
            diagnostics.push_back({path, 0, 0,
                                   dangling ? "cannot read the file: it is a link to a file that does not exist"
                                            : std::string("cannot read the file: ") + std::strerror(error)});
        }
        return std::nullopt;
    };
    if (missing != nullptr) *missing = false;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    FdCloser closer{fd};
    struct stat st{};
    if (::fstat(fd, &st) != 0) return fail(errno);
    FileContent content;
    content.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    // Read to the end, not to st_size: a writer may still be appending. The
    // capacity keeps room for the parser's padding, so that it reads the
    // text where it is.
    content.text.reserve(static_cast<size_t>(st.st_size) + 1 + json::padding);
    content.text.resize(static_cast<size_t>(st.st_size) + 1);
    size_t size = 0;
    for (;;) {
        if (size == content.text.size()) content.text.resize(content.text.size() * 2);
        const ssize_t got = ::read(fd, content.text.data() + size, content.text.size() - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return fail(errno);
        if (got == 0) break;
        size += static_cast<size_t>(got);
    }
    content.text.resize(size);
    content.text.reserve(size + json::padding);  // when the file grew while it was read
    return content;
}

FileLoad load_zone_text(std::string text, const std::string& path, RegionNames regions, uint32_t auto_serial,
                        core::Diagnostics& diagnostics) {
    Loaded loaded = load(std::move(text), path, regions, auto_serial, diagnostics);
    FileLoad result{std::move(loaded.zone), std::move(loaded.name), loaded.position.line, loaded.position.column};
    if (result.zone_name.empty()) return result;
    const std::filesystem::path file(path);
    if (lower(file.stem().string()) != result.zone_name) {
        diagnostics.push_back({path, result.line, result.column,
                               "zone \"" + result.zone_name + "\" is in the file \"" + file.filename().string() +
                                   "\"; rename the file to \"" + result.zone_name + ".json\" or correct \"zone\""});
        result.zone.reset();
        result.zone_name.clear();
    }
    return result;
}

bool ZoneClaims::claim(const std::string& zone_name, const std::string& path, uint32_t line, uint32_t column,
                       core::Diagnostics& diagnostics) {
    if (zone_name.empty()) return false;
    auto [it, fresh] = files_.try_emplace(zone_name, path);
    if (!fresh)
        diagnostics.push_back({path, line, column,
                               "zone \"" + zone_name + "\" is also defined by \"" + it->second +
                                   "\"; keep one file per zone"});
    return fresh;
}

DirectoryLoad load_directory(const std::string& dir, RegionNames regions) {
    DirectoryLoad result;
    std::vector<std::shared_ptr<const Zone>> zones;
    const std::vector<std::string> files = list_zone_files(dir, result.diagnostics);
    result.files = files.size();
    ZoneClaims claims;
    for (const auto& file : files) {
        auto content = read_zone_file(file, result.diagnostics);
        if (!content) continue;
        FileLoad loaded =
            load_zone_text(std::move(content->text), file, regions, mtime_serial(*content), result.diagnostics);
        if (!claims.claim(loaded.zone_name, file, loaded.line, loaded.column, result.diagnostics) || !loaded.zone)
            continue;
        zones.push_back(std::move(loaded.zone));
    }
    result.snapshot = std::make_shared<Snapshot>(std::move(zones));
    return result;
}

}  // namespace dnsd::zone
