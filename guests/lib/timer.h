/* EL1 virtual timer (Arm ARM D11.2): CNTV_CTL_EL0 ENABLE bit 0, IMASK bit 1, ISTATUS bit 2. */
#ifndef GUEST_TIMER_H
#define GUEST_TIMER_H

#include "sysreg.h"

#define CNTV_CTL_ENABLE 1UL
#define CNTV_CTL_IMASK 2UL
#define CNTV_CTL_ISTATUS 4UL

static inline u64 timer_frequency(void) { return read_sysreg(cntfrq_el0); }
static inline u64 timer_count(void) { isb(); return read_sysreg(cntvct_el0); }
static inline void cntv_set_ctl(u64 v) { write_sysreg(v, cntv_ctl_el0); isb(); }
static inline u64 cntv_ctl(void) { return read_sysreg(cntv_ctl_el0); }
static inline void cntv_set_tval(u64 ticks) { write_sysreg(ticks, cntv_tval_el0); isb(); }
static inline void cntv_set_cval(u64 cval) { write_sysreg(cval, cntv_cval_el0); isb(); }

#endif
