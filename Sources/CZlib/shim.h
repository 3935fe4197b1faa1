#include <zlib.h>

/* deflateInit and inflateInit are macros (they pass the library's version and the size of
   z_stream, so a mismatched zlib is refused); Swift imports no function-like macros. */
static inline int sov_deflate_init(z_stream *stream, int level) { return deflateInit(stream, level); }
static inline int sov_inflate_init(z_stream *stream) { return inflateInit(stream); }
