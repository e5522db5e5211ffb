#pragma once
// Replacing a file so that a reader, or the next start after a crash or a
// power cut, finds either the old content or the new one, never a mix or a
// truncated file: the new content goes to a temporary file beside the target
// (same directory, so same file system), which is flushed to disk, renamed
// over the target, and the directory flushed so that the rename lasts too
// (where the file system can flush a directory).
#include <filesystem>
#include <string>
#include <string_view>

namespace dnsd::core {

// True once `path` holds `content`. Else false, `error` says why (naming the
// file), `path` is as it was, and no temporary file is left behind.
bool write_file_atomically(const std::filesystem::path& path, std::string_view content, std::string& error);

}  // namespace dnsd::core
