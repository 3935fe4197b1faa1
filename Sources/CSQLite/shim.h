#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call: one wrapper per option used. */
static inline int sov_sqlite_config_statement_journal_spill(int bytes) {
    return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, bytes);
}

static inline int sov_sqlite_config_memory_statistics(int on) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on);
}
