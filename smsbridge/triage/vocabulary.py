"""The line's common vocabulary (data only): words citizens and officers write that are
never a person's name. The scrub keeps a word of this list after "saya", "pak" and the
like ("saya lihat sendiri", "pak RT"); the roster refuses one as a verification word
(anyone may type it by chance). The category keywords join it where it is used.
"""

from __future__ import annotations

from smsbridge.triage.keywords import DEFAULT_KEYWORDS

_TEXT = """
ada adalah agak aja aku akan akhir akibat aksi alamat amat aman ambil anak anda antar
antara apa apakah apalagi arah asal atas atau ayo bagi bagian bahkan bahwa baik baru
barusan bawah beberapa begini begitu belakang belum benar berapa berada berani bersama
besar betul biar biasa biasanya bilang bisa bikin boleh buat bukan bulan cara cepat cek
cuma dalam dan dapat dari daerah datang dekat dengan depan dengar mendengar di dia diam
dulu dua enggak gak ga nggak engga habis hampir hanya hari harus hati hendak hingga ini
itu iya ingin jadi jam jangan jauh jelas juga jumlah kalau kali kalian kami kamu kan
kapan karena kasih ke kecil kemarin kenapa kepada kurang lagi lain lama langsung lalu
lapor laporan lebih lewat lihat melihat liat lihat2 mau masih mana mari memang mereka
minta mohon mulai naik nanti ngga ngapain nya oleh orang pada padahal paling panggil
para parah pasti per pernah perlu pikir pula pun punya rasa resah rumah saat saja salah
sama sambil sampai sana sangat satu saya sebab sebagai sebelah sebelum sebentar sedang
sedikit segera sejak sekali sekarang sekitar selalu selama semua sendiri sering seperti
sesuai setelah setiap siang sini situ soal sore sudah sedang tadi tahu takut tanpa tapi
tau tempat tengah terus tetapi tiap tiba tidak tolong tlg tp trus tsb udah untuk utk
warga yang yg ya dgn dg sdh blm krn kmrn dpn blkg sblh dkt ktnya katanya kata terima
kasih makasih mksh selamat malam pagi minggu tahun bapak ibu pak bu mas mbak kakak adik
tetangga teman kawan keluarga suami istri anaknya orangnya pelaku pelapor korban saksi
polisi petugas polsek polres polresta kapolsek kanit babinkamtibmas satpol satpam hansip
linmas ronda rt rw lurah camat kades kepala dusun desa kampung kelurahan kecamatan kota
haji ustad ustadz pemilik penjual pedagang sopir supir ojek ojol tukang juru preman
pemuda remaja bocah anak2 warga2 mahasiswa siswa pelajar guru dokter bidan ketua
jalan jl gang gg lorong rumah warung toko pasar masjid mushola musholla gereja sekolah
kampus kantor balai pos terminal stasiun halte lapangan taman kebun sawah sungai kali
jembatan perempatan pertigaan lampu merah bundaran alun gedung hotel kos kost kontrakan
kamar parkiran parkir trotoar pinggir ujung samping seberang selatan utara timur barat
motor mobil truk sepeda angkot bus plat nomor hp telp telepon wa whatsapp sms nama
lokasi kejadian sekarang malam2 tiap2 ramai rame sepi bising berisik ganggu mengganggu
meresahkan resahkan tindak tindaklanjuti tangkap bubarkan dibubarkan cek dicek periksa
mabuk judi narkoba curi maling begal tawuran balap liar knalpot brong miras sabu togel
kehilangan hilang dicuri rusak terbakar kebakaran kecelakaan banjir ribut rusuh
sudah belum pernah akan sedang lagi juga hanya cuma saja aja dong deh sih kok lho loh
kayak kaya kyk gitu gini gimana bagaimana kenapa mengapa siapa dimana kemana darimana
lihat melihat menyaksikan tinggal bekerja kerja lewat pulang pergi datang mampir
mau ingin minta mohon melapor melaporkan lapor menginformasikan info informasi kasih
beri memberi memberitahu bilang bicara ngomong tanya bertanya jawab menjawab
the a an and or but of to in on at by for with from is are was were be been it this
that these those there here i you he she we they my your his her our their me him us
them not no yes please help police officer report saw see seen heard hear live living
sandi katasandi password balapan nih tuh yah mah lah kah dah udh gan bro sob kak bang mas
just now today tonight yesterday tomorrow again still already very many much some any
"""

# Digits as words, in Indonesian and English: a number spelled out is still a number.
DIGIT_WORDS: frozenset[str] = frozenset({
    "nol", "kosong", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
    "sembilan", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine"})

COMMON_WORDS: frozenset[str] = frozenset(
    {w.casefold() for w in _TEXT.split()}
    | {part.rstrip("*").casefold() for words in DEFAULT_KEYWORDS.values()
       for phrase in words for part in phrase.split() if part.rstrip("*")})
