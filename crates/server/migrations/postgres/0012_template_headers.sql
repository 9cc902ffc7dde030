-- Issue 17, CMP-2: a WhatsApp template may be approved with a media header, a photo
-- ('image') or a PDF ('document'); each send of it then carries that one file. Null: a
-- text-only template, as every template stored before this was.
ALTER TABLE whatsapp_templates ADD COLUMN header TEXT CHECK (header IN ('image', 'document'));
