//! What the simulated customers of a UK garage say: texts, WhatsApp captions and button
//! replies, portal messages and voicemail transcripts.

/// SMS and WhatsApp texts.
pub const TEXTS: &[&str] = &[
    "Hi, can I book my car in for an MOT next week? Any day but Thursday.",
    "Is my car ready yet? Need it for the school run at 3",
    "Hello, how much would a full service be on a 2016 Ford Focus 1.0 EcoBoost?",
    "Could you give me a quote for two front tyres? 205/55 R16",
    "My engine management light has come on, can you have a look today?",
    "Running about 10 mins late for my 9am drop off, sorry!",
    "Thanks, I'll pick it up after work about 5:15",
    "Hi it's about the Corsa, did you find out what the knocking noise was?",
    "Can you do the cambelt at the same time? Happy to pay the extra",
    "What time do you close on Saturdays?",
    "Brakes are squealing again since Tuesday. Can I bring it back in?",
    "MOT reminder says it's due on the 14th, have you got anything that week?",
    "Do you do air con regas? How much is it?",
    "Just paid online, ref WO-1023. Cheers",
    "Is it OK to leave the keys through the letterbox tonight?",
    "Hi, the quote was £340 on the phone, is that still right?",
    "Can I get a courtesy car while mine's in?",
    "Car's making a grinding noise when I turn left. Safe to drive over to you?",
    "Yes please go ahead with the work",
    "No thanks, just the MOT for now",
    "Windscreen washer isn't working, can you check it while it's in for the service?",
    "Hi, could you send me the invoice by email? Need it for work expenses",
    "What's the earliest you could fit a new battery? It won't start this morning",
    "Thank you so much, car is driving lovely now 👍",
];

/// Captions on photos customers send (dashboard lights, damage, tyres).
pub const CAPTIONS: &[&str] = &[
    "This light came on this morning",
    "Here's the tyre, there's a screw in it",
    "Scrape on the bumper from the car park, can you quote?",
    "Photo of the V5 so you have the reg and VIN",
    "Is this leak anything to worry about?",
];

/// (id, title) of interactive button replies to the garage's messages.
pub const BUTTONS: &[(&str, &str)] = &[
    ("confirm_booking", "Yes, book it in"),
    ("reschedule", "Change the date"),
    ("approve_quote", "Approve the quote"),
    ("call_me", "Please call me"),
];

/// Messages written in the customer portal.
pub const PORTAL: &[&str] = &[
    "Hi, I've uploaded the photos of the damage, let me know what you think.",
    "Can you confirm the collection time for tomorrow?",
    "Please go ahead with the brake pads as quoted.",
    "Could I move my booking to Friday morning?",
    "Is there any update on the parts for my car?",
];

/// Voicemail transcripts.
pub const TRANSCRIPTS: &[&str] = &[
    "Hi, it's about my car that's in for the service, could you give me a ring back when you get a chance? Thanks.",
    "Hello, I'd like to book an MOT for my Fiesta, sometime next week if possible. Call me back on this number.",
    "Hiya, just checking if the car will be ready today, I need it for tomorrow morning. Cheers.",
    "Hi, I had a quote from you last week for the clutch, I'd like to go ahead. Please call me back.",
    "Hello, my car's broken down on the ring road, do you do recovery? Please call me as soon as you can.",
];

/// The names of the PDFs customers send.
pub const DOCUMENTS: &[&str] = &[
    "MOT certificate.pdf",
    "Insurance claim form.pdf",
    "Quote from Fast Fit.pdf",
    "V5C logbook.pdf",
    "Warranty booklet.pdf",
];

/// What customers write on a PDF.
pub const DOCUMENT_CAPTIONS: &[&str] = &[
    "Here's the form the insurer sent",
    "The other garage's quote, can you beat it?",
    "Last year's MOT",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_fit_their_channels() {
        assert!(TEXTS
            .iter()
            .chain(PORTAL)
            .chain(CAPTIONS)
            .all(|t| !t.trim().is_empty() && t.chars().count() <= 1600));
        assert!(BUTTONS
            .iter()
            .all(|(id, title)| !id.is_empty() && title.chars().count() <= 20));
        assert!(TRANSCRIPTS.iter().all(|t| t.len() > 20));
    }
}
