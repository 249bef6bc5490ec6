-- Run once by the postgres image on an empty volume: Rasa's tracker store gets its
-- own database next to Rakel's (POSTGRES_DB=rakel), both owned by the rakel role.
CREATE DATABASE rakel_tracker OWNER rakel;
