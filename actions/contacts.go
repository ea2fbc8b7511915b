package actions

// Contacts: which bots can reach which people. A bot can message only the
// people it is friends with; the pool learns them as it learns rooms.

// ContactsPayload tells which contacts a bot can reach: its whole list,
// as its puppet gave it.
type ContactsPayload struct {
	Bot      string   `json:"bot"`
	Contacts []string `json:"contacts"`
}

// ContactPayload names one contact of one bot.
type ContactPayload struct {
	Bot     string `json:"bot"`
	Contact string `json:"contact"`
}

// Contact actions.
var (
	// ContactsLearned replaces what the pool knows of a bot's contacts
	// with the list its puppet gave (the contacts epic lists them at
	// login).
	ContactsLearned = Define[ContactsPayload]("bot/CONTACTS")
	// ContactAdded: the bot became friends with a contact (a puppet's
	// friendship event).
	ContactAdded = Define[ContactPayload]("bot/CONTACT_ADDED")
	// ContactRemoved: the bot is no longer friends with a contact (a
	// puppet's event, when the platform tells).
	ContactRemoved = Define[ContactPayload]("bot/CONTACT_REMOVED")
)
