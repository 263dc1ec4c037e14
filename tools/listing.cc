#include "listing.h"

#include <fnmatch.h>

#include <utility>

namespace backends::cli {

KeyFilter::KeyFilter(std::vector<FilterRule> rules) : rules_(std::move(rules)) {
  for (const FilterRule& rule : rules_) {
    if (rule.include) select_unmatched_ = false;
  }
}

bool KeyFilter::Selects(std::string_view key) const {
  const std::string text(key);
  for (auto rule = rules_.rbegin(); rule != rules_.rend(); ++rule) {
    // No FNM_PATHNAME: '*' crosses '/', as in aws s3 --exclude.
    if (::fnmatch(rule->pattern.c_str(), text.c_str(), 0) == 0) {
      return rule->include;
    }
  }
  return select_unmatched_;
}

ListingWalker::ListingWalker(Backend* backend, std::string prefix,
                             Detail detail)
    : backend_(backend), prefix_(std::move(prefix)), detail_(detail) {}

Status ListingWalker::ReadPage() {
  page_.clear();
  index_ = 0;
  if (detail_ == Detail::kEntries) {
    BACKENDS_ASSIGN_OR_RETURN(
        EntryPage page, backend_->list_entries({.prefix = prefix_,
                                                .start_after = resume_after_,
                                                .limit = kListPageSize}));
    page_ = std::move(page.entries);
    more_ = page.more && !page.resume_after.empty();
    resume_after_ = std::move(page.resume_after);
  } else {
    BACKENDS_ASSIGN_OR_RETURN(
        KeyPage page,
        backend_->list_page(prefix_, resume_after_, kListPageSize));
    more_ = page.more && !page.keys.empty();
    if (!page.keys.empty()) resume_after_ = page.keys.back();
    page_.reserve(page.keys.size());
    for (std::string& key : page.keys) {
      page_.push_back(ListEntry{.key = std::move(key), .info = {}});
    }
  }
  return Status::OK();
}

Result<bool> ListingWalker::Next() {
  if (backend_ == nullptr) return false;
  if (started_) ++index_;
  started_ = true;
  // A page may come back empty with more to follow (keys removed since).
  while (index_ >= page_.size()) {
    if (!more_) return false;
    BACKENDS_RETURN_IF_ERROR(ReadPage());
  }
  return true;
}

}  // namespace backends::cli
