/* photo.h: reading a photo (docs/photos.md), the get_photo call.
 *
 * A photo is read by whoever may read what it belongs to: a case's by
 * those who may get_event it (a kiosk with the ticket and the phone's
 * last 4 digits), a visit's as the resident archive is read, a wish's by
 * its community's workers. Anything else reads like a missing photo. The
 * attaching is the calls' own (photo_record.h: photo_attach). */
#ifndef WHISTLED_PHOTO_H
#define WHISTLED_PHOTO_H

#include "call.h"

/* GetPhoto: one chunk of a photo or of its thumbnail; the first chunk of
 * an original is audited as a read of personal data. */
void photo_get(call *c, const Whistle__V1__GetPhoto *req);

#endif
