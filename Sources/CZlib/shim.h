#include <zlib.h>

/* inflateInit is a macro (it passes the library's version and the size of z_stream, so a
   mismatched zlib is refused); Swift imports no function-like macros. */
static inline int sov_inflate_init(z_stream *stream) { return inflateInit(stream); }
