/* Debian's libxml2 is built with ICU, so its encoding.h would pull in the system's ICU headers,
   whose UErrorCode differs from the copy inside Foundation (_FoundationICU); any module that sees
   both fails to build, and whether it does depends on module-cache build order. We never touch
   the ICU converter fields, so the headers are read as if ICU were off. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>

/* A few libxml2 failures (a byte the declared encoding cannot decode) are reported only through
   its generic error function, which prints to stderr unattributed and is variadic, so Swift
   cannot supply one. These keep the first such message where the reader can name it instead. */
typedef struct {
    char message[256];
    int set;
} sov_xml_generic_error;

static inline void sov_xml_keep_generic_error(void *context, const char *format, ...) {
    sov_xml_generic_error *error = (sov_xml_generic_error *)context;
    if (error == NULL || error->set) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof error->message, format, arguments);
    va_end(arguments);
    error->set = 1;
}

/* Sends this thread's generic libxml2 errors to `error`, or nowhere when it is NULL. */
static inline void sov_xml_capture_generic_errors(sov_xml_generic_error *error) {
    xmlSetGenericErrorFunc(error, sov_xml_keep_generic_error);
}
