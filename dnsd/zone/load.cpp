#include "dnsd/zone/load.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

struct Loaded {
    std::shared_ptr<const Zone> zone;
    std::string name;  // lower case, no final dot; empty when "zone" was unusable
    json::Position position;
};

Loaded load(std::string_view text, const std::string& file, const config::Config& config,
            uint32_t auto_serial, core::Diagnostics& diagnostics) {
    Loaded loaded;
    core::Diagnostics found;
    auto root = json::parse(text, file, found);
    if (root) {
        Fields fields(file, found);
        SourceZone source = read_zone(*root, config, auto_serial, fields);
        validate(source, fields);
        if (!source.apex.empty()) {
            loaded.name = to_text(source.apex);
            if (loaded.name.size() > 1) loaded.name.pop_back();
            loaded.position = source.position;
        }
        if (found.empty()) loaded.zone = compile(source, file);
    }
    std::stable_sort(found.begin(), found.end(), [](const core::Diagnostic& a, const core::Diagnostic& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    diagnostics.insert(diagnostics.end(), found.begin(), found.end());
    return loaded;
}

// The file's text and its modification time in seconds, the "auto" serial.
std::optional<std::pair<std::string, uint32_t>> read_file(const std::string& path,
                                                          core::Diagnostics& diagnostics) {
    std::ifstream in(path, std::ios::binary);
    struct stat st{};
    if (!in || ::stat(path.c_str(), &st) != 0) {
        diagnostics.push_back({path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        diagnostics.push_back({path, 0, 0, "cannot read the file"});
        return std::nullopt;
    }
    return std::pair{text.str(), static_cast<uint32_t>(st.st_mtime)};
}

Loaded load_file(const std::string& path, const config::Config& config, core::Diagnostics& diagnostics) {
    auto content = read_file(path, diagnostics);
    if (!content) return {};
    return load(content->first, path, config, content->second, diagnostics);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace

std::shared_ptr<const Zone> load_zone(std::string_view text, const std::string& file,
                                      const config::Config& config, core::Diagnostics& diagnostics,
                                      uint32_t auto_serial) {
    return load(text, file, config, auto_serial, diagnostics).zone;
}

std::shared_ptr<const Zone> load_zone_file(const std::string& path, const config::Config& config,
                                           core::Diagnostics& diagnostics) {
    return load_file(path, config, diagnostics).zone;
}

DirectoryLoad load_directory(const std::string& dir, const config::Config& config) {
    namespace fs = std::filesystem;
    DirectoryLoad result;
    auto snapshot = std::make_shared<Snapshot>();
    std::vector<fs::path> files;
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        const fs::path& path = it->path();
        std::string name = path.filename().string();
        // Dot files are editors' scratch copies, not zones.
        if (path.extension() == ".json" && name.front() != '.' && it->is_regular_file(error))
            files.push_back(path);
    }
    if (error)
        result.diagnostics.push_back({dir, 0, 0, "cannot read the zones directory: " + error.message()});
    std::sort(files.begin(), files.end());
    result.files = files.size();

    std::map<std::string, std::string> zone_files;  // zone name → the file that defines it
    for (const auto& path : files) {
        std::string file = path.string();
        Loaded loaded = load_file(file, config, result.diagnostics);
        if (loaded.name.empty()) continue;
        std::string expected = path.stem().string();
        if (lower(expected) != loaded.name) {
            result.diagnostics.push_back(
                {file, loaded.position.line, loaded.position.column,
                 "zone \"" + loaded.name + "\" is in the file \"" + path.filename().string() +
                     "\"; rename the file to \"" + loaded.name + ".json\" or correct \"zone\""});
            continue;
        }
        auto [it, fresh] = zone_files.try_emplace(loaded.name, file);
        if (!fresh) {
            result.diagnostics.push_back({file, loaded.position.line, loaded.position.column,
                                          "zone \"" + loaded.name + "\" is also defined by \"" + it->second +
                                              "\"; keep one file per zone"});
            continue;
        }
        if (!loaded.zone) continue;
        snapshot->max_pool_members = std::max(snapshot->max_pool_members, loaded.zone->max_pool_members);
        snapshot->zones.push_back(std::move(loaded.zone));
    }
    result.snapshot = std::move(snapshot);
    return result;
}

}  // namespace dnsd::zone
