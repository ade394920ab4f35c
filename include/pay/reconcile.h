/* Payment reconciliation: a timer that re-reads pending orders' payments (so a lost webhook
 * only delays a sale), expires lapsed reservations, and applies what it finds through the
 * same fulfilment as the webhook. */
#ifndef ASTRA_PAY_RECONCILE_H
#define ASTRA_PAY_RECONCILE_H

void pay_reconcile_start(void);
void pay_reconcile_stop(void);

#endif
