/* ZSTD_decompressBound, which the shared library exports, is declared only in the section for
   static linking: what bounds a frame's content by its blocks before anything is allocated. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
