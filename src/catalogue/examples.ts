/** Example objects, one per object key; the catalogue serves them and tests validate them. */
const participantBase = {
  id: 8812,
  event_id: 40211,
  display_name: "Jane D.",
  name: "Jane Doe",
  phone: "(555) 201-3344",
  normalized_phone: "+15552013344",
  email: "jane.doe@example.com",
  state: "confirmed",
};

const eventBase = {
  id: 40211,
  calendar_id: 310,
  calendar_name: "Dr. Patel",
  external_id: "gcal-7f3a9c",
  start_time: "2026-04-15T12:00:00-07:00",
  end_time: "2026-04-15T12:30:00-07:00",
  all_day: false,
  title: "Dental cleaning",
  location: "Suite 200, 18 Main St",
  content: "Bring your insurance card.",
  custom_data: { room: "2B" },
  is_deleted: false,
};

export const EXAMPLES = {
  event: { ...eventBase, participants: [participantBase] },
  participant: { ...participantBase, event: eventBase },
  booking_page: { id: 77, name: "Book a cleaning", url: "https://book.example.com/patel-dental" },
  booking_request: {
    token: "br_9c2e71",
    state: "completed",
    appointment_type_token: "at_cleaning30",
    occurrence_selected_event_id: 40211,
    start_time: "2026-04-15T12:00:00-07:00",
    end_time: "2026-04-15T12:30:00-07:00",
    sign_up_page: false,
    timezone: "America/Los_Angeles",
    field_data: { insurance: "Delta Dental" },
    contact_info: { name: "Jane Doe", phone: "+15552013344", email: "jane.doe@example.com" },
    booking_page: { id: 77, name: "Book a cleaning", url: "https://book.example.com/patel-dental" },
  },
  message: {
    id: 99120,
    participant: participantBase,
    started: "2026-04-14T09:00:00-07:00",
    comm_type: "sms",
    last_out: "2026-04-14T09:00:03-07:00",
    last_in: "2026-04-14T09:12:40-07:00",
  },
  phone: "+15552013344",
  email: "jane.doe@example.com",
} as const;
