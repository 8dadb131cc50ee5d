/*
 * libeas — Exchange ActiveSync client SDK.  Umbrella header: include this
 * one, or the per-area headers it pulls in.
 */
#ifndef EAS_EAS_H
#define EAS_EAS_H

#include "eas/common.h"
#include "eas/wbxml_xml.h"
#include "eas/http.h"
#include "eas/email.h"
#include "eas/autodiscover.h"
#include "eas/policy.h"
#include "eas/status.h"
#include "eas/session.h"
#include "eas/sync.h"
#include "eas/mail.h"

#endif /* EAS_EAS_H */
