/* table_impl.h — what table.c shares with table_xlsx.c (the XLSX writer); not for other
 * modules. */
#ifndef NS_TABLE_IMPL_H
#define NS_TABLE_IMPL_H

#include <stddef.h>
#include "table.h"

/* Set the message ns_table_error() returns (this thread's). */
void ns_table_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NUMBER cell's text as the CSV writes it ("%.*f" with its decimals, or "%.15g") into
 * buf (NS_TABLE_NUMBER_BUF bytes); returns its length. */
#define NS_TABLE_NUMBER_BUF 400
int ns_table_number_text(const ns_cell_t *x, char *buf);

#endif
