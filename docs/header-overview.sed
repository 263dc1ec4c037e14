# Doxygen's INPUT_FILTER for the public headers: the comment at the top of
# each header (from line 3 to the first #include) is the header's overview,
# so it becomes the file's documentation, as if written with `/// \file`.
# Line numbers stay as they are, so warnings point at the real lines.
2s|^$|/// \\file|
3,/^#include/{
  s|^//   |///     |
  t
  s|^//|///|
}
