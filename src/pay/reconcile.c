/* Payment reconciliation: not built yet (selling issue, work in progress). */
#include "pay/reconcile.h"

void pay_reconcile_start(void) {}
void pay_reconcile_stop(void) {}
