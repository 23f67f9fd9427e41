/**
 * The JSON body of a webhook: exactly one top-level object key plus `apptoto_id` (the instance id),
 * as in docs/spec/webhook-notifications.txt. The object's JSON is stored once per event and spliced
 * in here, so delivering N instances never re-serialises the object.
 */
export function buildPayload(objectKey: string, objectJson: string, apptotoId: string): string {
  return `{${JSON.stringify(objectKey)}:${objectJson},"apptoto_id":${JSON.stringify(apptotoId)}}`;
}
